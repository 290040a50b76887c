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

        foreach (var instance in await runtime.Value.ListAsync(CancellationToken.None))
        {
            if (await runtime.Value.IsRunningAsync(instance.Id, CancellationToken.None))
            {
                await runtime.Value.StopAsync(instance.Id, CancellationToken.None);
                logger.LogInformation("Stopped instance {InstanceId}", instance.Id);
            }
        }

        if (storage.IsValueCreated)
        {
            storage.Value.Release(logger);
        }
    }
}
