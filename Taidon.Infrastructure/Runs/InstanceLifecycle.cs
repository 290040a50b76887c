using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Taidon.Core.Audit;
using Taidon.Core.Instances;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Persistence.Records;
using Taidon.Infrastructure.Quotas;

namespace Taidon.Infrastructure.Runs;

/// <summary>
/// The recurring instance job: idle instances are stopped (scale to zero; the next run starts them with
/// their data), expired ones are deleted with their data.
/// </summary>
public sealed class InstanceLifecycle(
    IDbContextFactory<ControlPlaneDbContext> contexts,
    IInstanceRuntime runtime,
    QuotaService quotas,
    IAuditLog audit,
    TimeProvider clock,
    ILogger<InstanceLifecycle> logger)
{
    public sealed record Sweep(int Stopped, int Deleted);

    public async Task<Sweep> SweepAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);

        var expired = await db.Instances.Where(i => i.ExpiresAt <= now).ToListAsync(cancellationToken);
        foreach (var instance in expired)
        {
            await runtime.DeleteAsync(instance.Id, cancellationToken);
            db.Instances.Remove(instance);
            logger.LogInformation("Deleted instance {InstanceId} of account {AccountId}: it expired at {ExpiresAt:u}", instance.Id, instance.OwnerId, instance.ExpiresAt);
            await audit.RecordAsync(new AuditEvent(AuditActions.InstanceExpire, null, RunService.Target(instance.Id), AuditOutcome.Succeeded,
                $"owner {instance.OwnerId}; expired at {instance.ExpiresAt:u}"), cancellationToken);
        }

        // Each owner's plan says how long an instance may idle (a minute at the least).
        var candidates = await db.Instances
            .Where(i => i.State == InstanceState.Running && i.OwnerId != null && i.LastActivityAt <= now.AddMinutes(-1) && i.ExpiresAt > now)
            .ToListAsync(cancellationToken);
        var idleMinutes = new Dictionary<string, int>();
        var idle = new List<InstanceRecord>();
        foreach (var instance in candidates)
        {
            if (!idleMinutes.TryGetValue(instance.OwnerId!, out var minutes))
            {
                minutes = idleMinutes[instance.OwnerId!] = (await quotas.ForAccountAsync(instance.OwnerId!, cancellationToken)).Effective.IdleMinutes;
            }

            if (instance.LastActivityAt > now.AddMinutes(-minutes))
            {
                continue;
            }

            await runtime.StopAsync(instance.Id, cancellationToken);
            instance.State = InstanceState.Stopped;
            idle.Add(instance);
            logger.LogInformation("Stopped idle instance {InstanceId} (no run since {LastActivity:u})", instance.Id, instance.LastActivityAt);
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var instance in idle)
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.InstanceStop, null, RunService.Target(instance.Id), AuditOutcome.Succeeded,
                $"idle since {instance.LastActivityAt:u}"), cancellationToken);
        }

        return new Sweep(idle.Count, expired.Count);
    }
}
