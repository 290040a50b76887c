using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Taidon.Web.Features.Telemetry;

namespace Taidon.Web.Features.Gateway;

/// <summary>
/// A replica serves the workspace once, to itself, before it says it is ready (<c>/readyz</c>): otherwise
/// the first students a new replica gets (the pages that load again there in a rolling update) pay for
/// compiling its components and opening its pools. On two cores under a class's load, a page that loaded
/// again took 4.3 s to its first byte (docs/benchmarks.md). It asks over loopback as a visitor without an
/// account, so it makes none; a replica whose warm-up fails is ready all the same, and says why.
/// </summary>
public sealed class WarmUp(IServer server, IHostApplicationLifetime lifetime, IOptions<MetricsOptions> metrics, ILogger<WarmUp> logger)
    : BackgroundService, IHealthCheck
{
    /// <summary>What a page of the workspace needs from the server: the page, its framework script and stylesheet.</summary>
    private static readonly string[] Paths = ["/", "/_framework/blazor.web.js", "/_content/MudBlazor/MudBlazor.min.css"];

    private volatile bool _done;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken) =>
        Task.FromResult(_done ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The replica is serving the workspace once to itself before it takes students."));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await StartedAsync(stoppingToken);
            if (Address() is not { } address)
            {
                // In-process servers (tests) have no address to ask.
                return;
            }

            var took = Stopwatch.StartNew();
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
            foreach (var path in Paths)
            {
                using var response = await client.GetAsync(path, stoppingToken);
                if (!response.IsSuccessStatusCode)
                {
                    logger.LogWarning("Warm-up: {Path} answered {Status}; the replica takes students without it", path, (int)response.StatusCode);
                    return;
                }
            }

            logger.LogInformation("Warm-up: served the workspace to itself in {Milliseconds} ms", took.ElapsedMilliseconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped before it was ready.
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            logger.LogWarning("Warm-up: the workspace could not be served over loopback ({Error}); the replica takes students without it", e.Message);
        }
        finally
        {
            _done = true;
        }
    }

    private async Task StartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        await started.Task;
    }

    /// <summary>The app's own port over loopback (plain HTTP preferred; not the metrics port); null when it listens on none.</summary>
    private Uri? Address()
    {
        var listened = (server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
            .Select(BindingAddress.Parse)
            .Where(a => a.Port != metrics.Value.Port)
            .OrderBy(a => a.Scheme == "http" ? 0 : 1)
            .FirstOrDefault();
        if (listened is null)
        {
            return null;
        }

        var host = listened.Host is "localhost" or "+" or "*" or "[::]" or "0.0.0.0" ? "127.0.0.1" : listened.Host;
        return new Uri($"{listened.Scheme}://{host}:{listened.Port}/");
    }
}
