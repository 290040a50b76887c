using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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

    /// <summary>Serves the app with Kestrel on a free loopback port and returns its base address.</summary>
    public Uri StartOnLoopback()
    {
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
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
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }
}
