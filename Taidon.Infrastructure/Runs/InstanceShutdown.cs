using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Infrastructure.Runs;

/// <summary>Stops the embedded runtime's instances when the app stops (they come back from disk on the next run).</summary>
public sealed class InstanceShutdown(Lazy<LocalInstanceRuntime> runtime, ILogger<InstanceShutdown> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!runtime.IsValueCreated || !Directory.Exists(runtime.Value.Root))
        {
            return;
        }

        foreach (var directory in Directory.EnumerateDirectories(runtime.Value.Root))
        {
            if (Guid.TryParseExact(Path.GetFileName(directory), "N", out var id) && await runtime.Value.IsRunningAsync(id, CancellationToken.None))
            {
                await runtime.Value.StopAsync(id, CancellationToken.None);
                logger.LogInformation("Stopped instance {InstanceId}", id);
            }
        }
    }
}
