using Microsoft.Extensions.Logging;
using Taidon.Core.Audit;
using Taidon.Core.Quotas;

namespace Taidon.Core.Instances;

/// <summary>
/// The recurring instance job: idle instances are stopped (scale to zero; the next run starts them with
/// their data), expired ones are deleted with their data. When each of those is, <see cref="Instance"/> says.
/// </summary>
public sealed class InstanceLifecycle(
    IInstanceStore instances,
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
        var all = await instances.AllAsync(cancellationToken);

        var expired = all.Where(i => i.HasExpired(now)).ToList();
        foreach (var instance in expired)
        {
            await runtime.DeleteAsync(instance.Id, cancellationToken);
            await instances.RemoveAsync(instance.Id, cancellationToken);
            logger.LogInformation("Deleted instance {InstanceId} of account {AccountId}: it expired at {ExpiresAt:u}", instance.Id, instance.OwnerId, instance.ExpiresAt);
            await audit.RecordAsync(new AuditEvent(AuditActions.InstanceExpire, null, Instance.AuditTarget(instance.Id), AuditOutcome.Succeeded,
                $"owner {instance.OwnerId}; expired at {instance.ExpiresAt:u}"), cancellationToken);
        }

        // Each owner's plan says how long an instance may idle (a minute at the least).
        var idleMinutes = new Dictionary<string, int>();
        var idle = new List<Instance>();
        foreach (var instance in all.Where(i => i.IsIdle(now, 1)))
        {
            if (!idleMinutes.TryGetValue(instance.OwnerId!, out var minutes))
            {
                minutes = idleMinutes[instance.OwnerId!] = (await quotas.ForAccountAsync(instance.OwnerId!, cancellationToken)).Effective.IdleMinutes;
            }

            if (!instance.IsIdle(now, minutes))
            {
                continue;
            }

            await runtime.StopAsync(instance.Id, cancellationToken);
            instance.State = InstanceState.Stopped;
            idle.Add(instance);
            logger.LogInformation("Stopped idle instance {InstanceId} (no run since {LastActivity:u})", instance.Id, instance.LastActivityAt);
        }

        await instances.UpdateAsync(idle, cancellationToken);
        foreach (var instance in idle)
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.InstanceStop, null, Instance.AuditTarget(instance.Id), AuditOutcome.Succeeded,
                $"idle since {instance.LastActivityAt:u}"), cancellationToken);
        }

        return new Sweep(idle.Count, expired.Count);
    }
}
