using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Taidon.Tests.Support;

/// <summary>
/// The ingress in front of several replicas of the app, on loopback: YARP with a session cookie that keeps
/// each browser on its replica (as ingress-nginx does with the chart's sticky-session annotations), WebSockets
/// passed through, the original Host kept. <see cref="Route"/> changes the replicas as a Deployment's
/// endpoints change during a rolling update; a browser whose replica left is sent to another.
/// </summary>
public sealed class ReplicaProxy : IAsyncDisposable
{
    /// <summary>The chart's affinity cookie.</summary>
    public const string AffinityCookie = "taidon-affinity";

    private readonly WebApplication _app;

    private ReplicaProxy(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public static async Task<ReplicaProxy> StartAsync(IReadOnlyDictionary<string, Uri> replicas)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Not a line per request forwarded (the settings' Information level would win over the minimum above).
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Services.AddReverseProxy().LoadFromMemory([Routes], [Cluster(replicas)]);
        var app = builder.Build();
        app.MapReverseProxy();
        await app.StartAsync();
        return new ReplicaProxy(app) { Url = new Uri(app.Urls.First()) };
    }

    /// <summary>Sends requests to these replicas from now on (those in progress go on where they are).</summary>
    public void Route(IReadOnlyDictionary<string, Uri> replicas) =>
        _app.Services.GetRequiredService<InMemoryConfigProvider>().Update([Routes], [Cluster(replicas)]);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static RouteConfig Routes => new()
    {
        RouteId = "all",
        ClusterId = "replicas",
        Match = new RouteMatch { Path = "{**rest}" },
        Transforms = [new Dictionary<string, string> { ["RequestHeaderOriginalHost"] = "true" }],
    };

    private static ClusterConfig Cluster(IReadOnlyDictionary<string, Uri> replicas) => new()
    {
        ClusterId = "replicas",
        SessionAffinity = new SessionAffinityConfig
        {
            Enabled = true,
            Policy = "Cookie",
            FailurePolicy = "Redistribute",
            AffinityKeyName = AffinityCookie,
        },
        Destinations = replicas.ToDictionary(r => r.Key, r => new DestinationConfig { Address = r.Value.ToString() }),
    };
}
