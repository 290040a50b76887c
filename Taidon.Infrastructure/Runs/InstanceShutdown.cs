using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Infrastructure.Runs;

/// <summary>
/// Stops the embedded runtime's instances when the app stops (they come back from disk on the next
/// run), then unmounts the storage image the app mounted.
/// </summary>
public sealed class InstanceShutdown(Lazy<LocalInstanceRuntime> runtime, Lazy<InstanceStorage> storage, ILogger<InstanceShutdown> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!runtime.IsValueCreated)
        {
            return;
        }

        // Several at once: a class's 300 instances one by one outlast a service manager's stop timeout.
        var stopped = 0;
        await Parallel.ForEachAsync(
            await runtime.Value.ListAsync(CancellationToken.None),
            new ParallelOptions { MaxDegreeOfParallelism = 4 * Environment.ProcessorCount },
            async (instance, _) =>
            {
                try
                {
                    if (await runtime.Value.IsRunningAsync(instance.Id, CancellationToken.None))
                    {
                        await runtime.Value.StopAsync(instance.Id, CancellationToken.None);
                        Interlocked.Increment(ref stopped);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Instance {InstanceId} did not stop cleanly", instance.Id);
                }
            });
        logger.LogInformation("Stopped {Count} instances", stopped);

        if (storage.IsValueCreated)
        {
            storage.Value.Release(logger);
        }
    }
}
