using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Taidon.Core.Runs;

namespace Taidon.Web.Features.Gateway;

/// <summary>
/// The open circuits' connections (the <c>/_blazor</c> requests: a WebSocket, or a long-running request of
/// another transport), so that a replica that stops can close them.
/// </summary>
public sealed class CircuitConnections(IHostApplicationLifetime lifetime)
{
    private const string Path = "/_blazor";

    private readonly ConcurrentDictionary<HttpContext, byte> _open = new();
    private int _endedWhileStopping;

    public int Count => _open.Count;

    /// <summary>The connections that ended once the app began to stop (SignalR's own close at <c>ApplicationStopping</c> and <see cref="CloseAll"/>'s).</summary>
    public int EndedWhileStopping => Volatile.Read(ref _endedWhileStopping);

    /// <summary>Closes every open circuit connection; returns how many.</summary>
    public int CloseAll()
    {
        var closed = 0;
        foreach (var context in _open.Keys)
        {
            context.Abort();
            closed++;
        }

        return closed;
    }

    /// <summary>Keeps the circuits' requests in the registry while they last.</summary>
    public async Task TrackAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.Path.StartsWithSegments(Path, StringComparison.Ordinal))
        {
            await next(context);
            return;
        }

        _open[context] = 0;
        try
        {
            await next(context);
        }
        finally
        {
            _open.TryRemove(context, out _);
            if (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                Interlocked.Increment(ref _endedWhileStopping);
            }
        }
    }
}

/// <summary>
/// How a replica stops (a rolling update, a drained node, a service restart). The server waits for the
/// API's requests in progress, but a circuit's connection lasts as long as its page. As soon as the app is
/// stopping, the circuits' connections are closed: each browser reconnects at once to a replica still
/// there, which does not know its circuit, and the page loads again (edits not yet saved come back from the
/// browser's copy). The runs in progress here, those of circuits too, go on without their connections and
/// are let end and be recorded (the page shows them in its history); the circuits that connected meanwhile
/// are closed after them. When the circuits were closed only after the runs, a page whose own run was in
/// progress here came back 3.6-16.9 s after the stop began; closed at once, it begins to load again
/// elsewhere within 1.0-1.6 s (docs/benchmarks.md).
/// </summary>
public sealed class GracefulStop(
    IHostApplicationLifetime lifetime, IActiveRuns active, CircuitConnections circuits, IOptions<HostOptions> host, ILogger<GracefulStop> logger) : IHostedService
{
    private Task _closing = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(() => _closing = CloseCircuitsAsync());
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) =>
        await _closing.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    private async Task CloseCircuitsAsync()
    {
        circuits.CloseAll();

        // Some of the shutdown timeout is kept for what stops after (the server, the instances).
        var deadline = DateTimeOffset.UtcNow + host.Value.ShutdownTimeout * 0.8;
        if (active.Here.Count > 0)
        {
            logger.LogInformation("Stopping: waiting for {Count} runs in progress to end", active.Here.Count);
            while (active.Here.Count > 0 && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }

            if (active.Here.Count > 0)
            {
                logger.LogWarning("Stopping: {Count} runs were still in progress", active.Here.Count);
            }
        }

        // Read before the last CloseAll: the connections it aborts end (and are counted there) after it returns.
        var ended = circuits.EndedWhileStopping;
        var late = circuits.CloseAll();
        logger.LogInformation("Stopping: closed {Count} circuit connections ({Late} opened during the stop); their browsers reconnect to another replica", ended + late, late);
    }
}
