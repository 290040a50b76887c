using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Taidon.Core.Instances;

namespace Taidon.Infrastructure.Runs;

/// <summary>Reconciles once when the app starts, after the migrations.</summary>
public sealed class InstanceReconciliationAtStart(InstanceReconciliation reconciliation) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => reconciliation.ReconcileAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Refills the warm pool in the background: at once after a claim or a lesson's hold on this replica, else every minute (a pool of size 0 waits for a lesson).</summary>
public sealed class WarmPoolRefill(WarmPool pool, ILogger<WarmPoolRefill> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wanted = new(0, int.MaxValue);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        pool.RefillWanted += Wake;
        var first = true;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    // Once at start (what an earlier run of the app left pooled), then while the pool has a size, a
                    // lesson (planned on any replica) or instances to give back.
                    if (first || await pool.IsWantedAsync(stoppingToken))
                    {
                        first = false;
                        await pool.RefillAsync(stoppingToken);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "The warm pool could not be refilled; it tries again in a minute");
                }

                await _wanted.WaitAsync(TimeSpan.FromMinutes(1), stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            pool.RefillWanted -= Wake;
        }
    }

    private void Wake() => _wanted.Release();
}
