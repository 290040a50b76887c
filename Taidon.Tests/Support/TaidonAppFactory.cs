using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using Taidon.Web.Features.Accounts;

namespace Taidon.Tests.Support;

/// <summary>
/// The whole app in the test process, on its own database in the shared test control plane, with a
/// known first admin. <see cref="StartOnLoopback"/> serves it with Kestrel for the browser.
/// </summary>
public class TaidonAppFactory(string connectionString, IReadOnlyDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    public CapturedLogs Logs { get; } = new();

    public string ConnectionString => connectionString;

    public const string AdminEmail = "admin@taidon.test";
    public const string AdminPassword = "Admin-Passw0rd!";

    public static async Task<TaidonAppFactory> CreateAsync(string purpose, IReadOnlyDictionary<string, string?>? settings = null) =>
        new(await TestControlPlane.CreateDatabaseAsync(purpose), settings);

    /// <summary>
    /// An app that runs instances, with its own data directory (removed on dispose). The path is short:
    /// instance sockets live under it, and Unix socket paths must stay under 108 bytes.
    /// </summary>
    public static async Task<TaidonAppFactory> CreateWithInstancesAsync(string purpose, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var data = Path.Combine(Path.GetTempPath(), $"tdn-{Guid.NewGuid():N}"[..12]);
        Directory.CreateDirectory(data);
        File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Taidon:DataDirectory"] = data };
        return new TaidonAppFactory(await TestControlPlane.CreateDatabaseAsync(purpose), all) { DataDirectory = data };
    }

    /// <summary>The data directory made by <see cref="CreateWithInstancesAsync"/>.</summary>
    public string? DataDirectory { get; private init; }

    /// <summary>A client with the bearer token of a new guest account.</summary>
    public async Task<HttpClient> GuestApiClientAsync()
    {
        var client = CreateClient();
        var token = (await (await client.PostAsync("/api/v1/anonymous", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>
    /// What the workspace's script does at a visitor's first edit or run: <c>POST /account/guest</c>, which
    /// makes a guest account and signs the client in with its cookie (a page view makes none).
    /// </summary>
    public static async Task<HttpResponseMessage> BecomeGuestAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, GuestSignIn.Path);
        request.Headers.Add(GuestSignIn.Header, "1");
        return await client.SendAsync(request);
    }

    /// <summary>The id of the account a client acts as (<c>GET /api/v1/me</c>).</summary>
    public static async Task<string> AccountIdAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("id").GetString()!;

    /// <summary>A client with a personal access token of the first admin's.</summary>
    public async Task<HttpClient> AdminApiClientAsync()
    {
        using var scope = Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Taidon.Infrastructure.Identity.TaidonUser>>();
        var admin = await users.FindByEmailAsync(AdminEmail);
        var tokens = scope.ServiceProvider.GetRequiredService<Taidon.Core.Accounts.IAccessTokenService>();
        var token = (await tokens.CreateAsync(admin!.Id, "admin test", null, CancellationToken.None)).Token;
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (DataDirectory is not null)
        {
            await DeleteAsync(DataDirectory);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Deletes a data directory, trying again while work the app left running in the background (a
    /// layer being written or removed) still changes it: a file that vanishes or appears mid-delete.
    /// </summary>
    public static async Task DeleteAsync(string directory)
    {
        for (var attempt = 1; Directory.Exists(directory); attempt++)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception e) when (e is DirectoryNotFoundException or IOException && attempt < 10)
            {
                await Task.Delay(200 * attempt);
            }
        }
    }

    /// <summary>Serves the app with Kestrel on a free loopback port (and on <paramref name="alsoOnPorts"/>) and returns the free port's base address.</summary>
    public Uri StartOnLoopback(params int[] alsoOnPorts)
    {
        UseKestrel(options =>
        {
            options.Listen(IPAddress.Loopback, 0);
            foreach (var port in alsoOnPorts)
            {
                options.Listen(IPAddress.Loopback, port);
            }
        });
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => !alsoOnPorts.Contains(Microsoft.AspNetCore.Http.BindingAddress.Parse(a).Port));
        return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        // Serve MudBlazor's and our own assets from the build output, as in development.
        builder.UseStaticWebAssets();
        builder.UseSetting("ConnectionStrings:ControlPlane", connectionString);
        builder.UseSetting("Taidon:Accounts:AdminEmail", AdminEmail);
        builder.UseSetting("Taidon:Accounts:AdminPassword", AdminPassword);
        builder.UseSetting("Taidon:Jobs:RunServer", "false");
        builder.UseSetting("Taidon:Instances:WarmPoolSize", "0");
        // Hundreds of apps in one run: each would mount an image of its own (CopyOnWriteStorageTests tests the default).
        builder.UseSetting("Taidon:Storage:CopyOnWrite", "off");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }
}
