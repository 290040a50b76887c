using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Taidon.Infrastructure;
using Taidon.Tests.Support;
using Taidon.Web;
using Taidon.Web.Features.Gateway;

namespace Taidon.Tests.Deploy;

/// <summary>
/// The files README.md installs on one server: the systemd unit names settings the app reads, with
/// values it accepts, and runs the published app in its folder; nginx passes Blazor's WebSocket on and
/// sends the forwarded headers the unit's settings believe.
/// </summary>
public sealed partial class DeployFilesTests
{
    private static readonly string Unit = File.ReadAllText(Path.Combine(Repository.Root, "deploy", "taidon.service"));
    private static readonly string Nginx = File.ReadAllText(Path.Combine(Repository.Root, "deploy", "nginx-taidon.conf"));

    // Every options class of the app, by its section.
    private static readonly Dictionary<string, Type> Sections = new[] { typeof(TaidonOptions), typeof(Taidon.Core.Projects.ProjectOptions), typeof(StaticAssetsCheck) }
        .Select(t => t.Assembly)
        .SelectMany(a => a.GetTypes())
        .Select(t => (Type: t, Field: t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)))
        .Where(s => s.Field is { IsLiteral: true })
        .ToDictionary(s => (string)s.Field!.GetRawConstantValue()!, s => s.Type, StringComparer.OrdinalIgnoreCase);

    [Fact]
    public void EveryVariableOfTheUnitIsASettingTheAppReads()
    {
        var environment = Environment();
        Assert.NotEmpty(environment);

        foreach (var name in environment.Keys.Where(n => !n.StartsWith("ASPNETCORE_", StringComparison.Ordinal)))
        {
            var key = name.Replace("__", ":", StringComparison.Ordinal);
            var section = Sections.Keys.Where(s => key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase)).MaxBy(s => s.Length);
            Assert.True(section is not null, $"{name} is in no settings section of the app");
            var property = key[(section.Length + 1)..].Split(':')[0];
            Assert.True(Sections[section].GetProperty(property, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is not null, $"{name}: {Sections[section].Name} has no setting {property}");
        }

        Assert.Equal(["ASPNETCORE_ENVIRONMENT", "ASPNETCORE_URLS"], environment.Keys.Where(n => n.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal("Production", environment["ASPNETCORE_ENVIRONMENT"]);
    }

    [Fact]
    public void TheUnitsValuesAreOnesTheAppAccepts()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(Environment().Select(e => KeyValuePair.Create(e.Key.Replace("__", ":", StringComparison.Ordinal), (string?)e.Value)))
            .Build();

        Assert.Equal("/var/lib/taidon", configuration.GetSection(TaidonOptions.SectionName).Get<TaidonOptions>()!.ResolveDataDirectory());
        var proxies = configuration.GetSection(ForwardedHeadersSettings.SectionName).Get<ForwardedHeadersSettings>()!;
        Assert.Empty(proxies.Validate(new ValidationContext(proxies)));
        Assert.Equal(["127.0.0.1"], proxies.KnownProxies);
    }

    [Fact]
    public void TheUnitRunsThePublishedAppInItsFolderAndLetsItStopItsPostgreSql()
    {
        // Where the README's publish puts it; outside its folder the app has no wwwroot and refuses to start.
        var folder = Regex.Match(StaticAssetsCheck.PublishCommand, "-o (\\S+)").Groups[1].Value;
        Assert.Equal(folder, Directive("WorkingDirectory"));
        Assert.Equal($"/usr/bin/dotnet {folder}/Taidon.Web.dll", Directive("ExecStart"));
        Assert.Equal("mixed", Directive("KillMode"));
        Assert.True(int.Parse(Directive("TimeoutStopSec"), System.Globalization.CultureInfo.InvariantCulture) >= 90);
        Assert.Equal("on-failure", Directive("Restart"));
    }

    [Fact]
    public void NginxPassesTheWebSocketOnAndSendsTheForwardedHeadersFromAnAddressTheAppBelieves()
    {
        var environment = Environment();
        Assert.Equal(environment["ASPNETCORE_URLS"], ProxyPass().Match(Nginx).Groups[1].Value);
        Assert.Contains("proxy_http_version 1.1;", Nginx, StringComparison.Ordinal);
        Assert.Contains("proxy_set_header Upgrade $http_upgrade;", Nginx, StringComparison.Ordinal);
        Assert.Contains("proxy_set_header Connection $connection_upgrade;", Nginx, StringComparison.Ordinal);
        Assert.Matches(@"map \$http_upgrade \$connection_upgrade \{\s+default upgrade;\s+''\s+close;\s+\}", Nginx);
        Assert.Contains("proxy_set_header X-Forwarded-For $remote_addr;", Nginx, StringComparison.Ordinal);
        Assert.Contains("proxy_set_header X-Forwarded-Proto $scheme;", Nginx, StringComparison.Ordinal);

        // nginx reaches the app on loopback, so its requests come from the address the unit names as the proxy.
        Assert.Equal(new Uri(environment["ASPNETCORE_URLS"]).Host, environment["Taidon__ForwardedHeaders__KnownProxies__0"]);
    }

    private static Dictionary<string, string> Environment() =>
        Unit.Split('\n')
            .Where(line => line.StartsWith("Environment=", StringComparison.Ordinal))
            .Select(line => line["Environment=".Length..].Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);

    private static string Directive(string name) =>
        Assert.Single(Unit.Split('\n'), line => line.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];

    [GeneratedRegex(@"proxy_pass (http://[^;/]+);")]
    private static partial Regex ProxyPass();
}
