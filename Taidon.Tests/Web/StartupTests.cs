using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

public sealed class StartupTests
{
    [Fact]
    public async Task WithoutAConnectionStringTheAppStartsItsOwnPostgresInTheDataDirectory()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"taidon-startup-{Guid.NewGuid():N}");
        try
        {
            await using (var app = new EmbeddedDefaultFactory(dataDirectory))
            {
                using var client = app.CreateClient();
                var ready = await client.GetAsync("/readyz");

                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
                Assert.NotNull(app.Services.GetRequiredService<ControlPlaneConnection>().Embedded);
                Assert.True(File.Exists(Path.Combine(dataDirectory, "control-plane", "pgdata", "PG_VERSION")));
                Assert.True(File.Exists(Path.Combine(dataDirectory, "control-plane", "pgdata", "postmaster.pid")));
            }

            // Stopping the app stops its PostgreSQL.
            Assert.False(File.Exists(Path.Combine(dataDirectory, "control-plane", "pgdata", "postmaster.pid")));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Theory]
    [InlineData("Taidon:RateLimits:ApiPerMinute", "0", "Taidon:RateLimits:ApiPerMinute must be between 1 and 100000")]
    [InlineData("Taidon:Git:AllowedHosts:0", "https://gitea.school.internal/", "Taidon:Git:AllowedHosts: 'https://gitea.school.internal/' is not a host or host:port")]
    [InlineData("Taidon:Git:TimeoutSeconds", "0", "Taidon:Git:TimeoutSeconds must be between 1 and 3600")]
    [InlineData("Taidon:ForwardedHeaders:KnownNetworks:0", "everyone", "Taidon:ForwardedHeaders:KnownNetworks: 'everyone' is not a network")]
    public async Task ABadSettingFailsTheStartWithAMessageNamingIt(string setting, string value, string message)
    {
        await using var app = await TaidonAppFactory.CreateAsync("badsetting", new Dictionary<string, string?> { [setting] = value });

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheFirstAdminComesFromTheSettings()
    {
        await using var app = await TaidonAppFactory.CreateAsync("firstadmin");
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Taidon.Infrastructure.Identity.TaidonUser>>();

        var admin = await users.FindByEmailAsync(TaidonAppFactory.AdminEmail);

        Assert.NotNull(admin);
        Assert.True(await users.IsInRoleAsync(admin, "Admin"));
        Assert.True(await users.CheckPasswordAsync(admin, TaidonAppFactory.AdminPassword));
        Assert.False(admin.MustChangePassword);
    }

    [Fact]
    public async Task WithoutAnAdminPasswordAOneTimePasswordIsPrintedOnceAtFirstStart()
    {
        var noPassword = new Dictionary<string, string?> { ["Taidon:Accounts:AdminPassword"] = "" };
        await using var first = await TaidonAppFactory.CreateAsync("onetime", noPassword);
        first.CreateClient().Dispose();

        var line = Assert.Single(first.Logs.Messages, m => m.Contains("one-time password", StringComparison.Ordinal));
        var password = System.Text.RegularExpressions.Regex.Match(line, "one-time password (\\S+) ").Groups[1].Value;
        using (var scope = first.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Taidon.Infrastructure.Identity.TaidonUser>>();
            var admin = await users.FindByEmailAsync(TaidonAppFactory.AdminEmail);
            Assert.True(await users.CheckPasswordAsync(admin!, password));
            Assert.True(admin!.MustChangePassword);
        }

        // The next start of the same installation finds the admin and prints nothing.
        await using var second = new TaidonAppFactory(first.ConnectionString, noPassword);
        second.CreateClient().Dispose();
        Assert.DoesNotContain(second.Logs.Messages, m => m.Contains("one-time password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwoReplicasOnOneControlPlaneAcceptEachOthersCookies()
    {
        await using var first = await TaidonAppFactory.CreateAsync("replicas");
        await using var second = new TaidonAppFactory(first.ConnectionString);
        using var firstClient = first.CreateClient(new() { HandleCookies = false });
        using var secondClient = second.CreateClient(new() { HandleCookies = false });

        var visit = await TaidonAppFactory.BecomeGuestAsync(firstClient);
        var cookie = visit.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("taidon.session=", StringComparison.Ordinal)).Split(';')[0];
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("Cookie", cookie);
        var onSecond = await secondClient.SendAsync(request);

        // The second replica reads the first one's cookie (shared Data Protection keys): no new guest account.
        Assert.Equal(HttpStatusCode.OK, onSecond.StatusCode);
        Assert.False(onSecond.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(c => c.StartsWith("taidon.session=", StringComparison.Ordinal)));
    }

    [Fact]
    public void JsonLogFormatWritesOneJsonObjectPerLine()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder(["--Taidon:LogFormat=json"]);

        Taidon.Web.DependencyInjection.AddTaidonLogging(builder);

        using var services = builder.Services.BuildServiceProvider();
        var console = services.GetRequiredService<IOptions<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>>().Value;
        Assert.Equal("json", console.FormatterName);
        var json = services.GetRequiredService<IOptions<Microsoft.Extensions.Logging.Console.JsonConsoleFormatterOptions>>().Value;
        Assert.False(json.JsonWriterOptions.Indented);
    }

    private sealed class EmbeddedDefaultFactory(string dataDirectory) : Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            builder.UseSetting("Taidon:DataDirectory", dataDirectory);
            builder.UseSetting("Taidon:Jobs:RunServer", "false");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
        }
    }
}
