using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Taidon.Core.Instances;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Persistence.Records;

namespace Taidon.Infrastructure.Runs;

/// <summary>
/// The recurring instance job: idle instances are stopped (scale to zero; the next run starts them with
/// their data), expired ones are deleted with their data.
/// </summary>
public sealed class InstanceLifecycle(
    IDbContextFactory<ControlPlaneDbContext> contexts,
    IInstanceRuntime runtime,
    IOptions<InstanceOptions> options,
    TimeProvider clock,
    ILogger<InstanceLifecycle> logger)
{
    public sealed record Sweep(int Stopped, int Deleted);

    public async Task<Sweep> SweepAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var idleSince = now.AddMinutes(-options.Value.IdleMinutes);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);

        var expired = await db.Instances.Where(i => i.ExpiresAt <= now).ToListAsync(cancellationToken);
        foreach (var instance in expired)
        {
            await runtime.DeleteAsync(instance.Id, cancellationToken);
            db.Instances.Remove(instance);
            logger.LogInformation("Deleted instance {InstanceId} of account {AccountId}: it expired at {ExpiresAt:u}", instance.Id, instance.OwnerId, instance.ExpiresAt);
        }

        var idle = await db.Instances
            .Where(i => i.State == InstanceState.Running && i.LastActivityAt <= idleSince && i.ExpiresAt > now)
            .ToListAsync(cancellationToken);
        foreach (var instance in idle)
        {
            await runtime.StopAsync(instance.Id, cancellationToken);
            instance.State = InstanceState.Stopped;
            logger.LogInformation("Stopped idle instance {InstanceId} (no run since {LastActivity:u})", instance.Id, instance.LastActivityAt);
        }

        await db.SaveChangesAsync(cancellationToken);
        return new Sweep(idle.Count, expired.Count);
    }
}
