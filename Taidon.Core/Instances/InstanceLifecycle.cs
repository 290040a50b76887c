using Microsoft.Extensions.Logging;
using Taidon.Core.Audit;
using Taidon.Core.Quotas;

namespace Taidon.Core.Instances;

/// <summary>
/// The recurring instance job: idle instances are stopped (scale to zero; the next run starts them with
/// their data), expired ones are deleted with their data, and past the instances' disk budget the files
/// of stopped instances whose state the cache holds are dropped (guests' first, the longest unused
/// first). When each of those is, <see cref="Instance"/> says. With <paramref name="machine"/> (the
/// instances run on this machine), idle instances are stopped sooner while memory is short.
/// </summary>
public sealed class InstanceLifecycle(
    IInstanceStore instances,
    IInstanceRuntime runtime,
    QuotaService quotas,
    InstanceOptions options,
    IAuditLog audit,
    TimeProvider clock,
    ILogger<InstanceLifecycle> logger,
    IMachineLoad? machine = null)
{
    public sealed record Sweep(int Stopped, int Deleted, int Reclaimed = 0);

    /// <summary>What the machine has left when that is less than <see cref="InstanceOptions.MemoryShortPercent"/> of its memory, else null.</summary>
    private string? MemoryShort()
    {
        if (machine is null || options.MemoryShortPercent <= 0)
        {
            return null;
        }

        var load = machine.Read();
        return load.MemoryTotalBytes > 0 && load.MemoryAvailableBytes * 100 < load.MemoryTotalBytes * options.MemoryShortPercent
            ? $"{load.MemoryAvailableBytes / 1048576} of {load.MemoryTotalBytes / 1048576} MB available"
            : null;
    }

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

        // Each owner's plan says how long an instance may idle (a minute at the least), shorter while memory is short.
        var shortOfMemory = MemoryShort();
        var idleMinutes = new Dictionary<string, int>();
        var idle = new List<Instance>();
        foreach (var instance in all.Where(i => i.IsIdle(now, 1)))
        {
            if (!idleMinutes.TryGetValue(instance.OwnerId!, out var minutes))
            {
                var planned = (await quotas.ForAccountAsync(instance.OwnerId!, cancellationToken)).Effective.IdleMinutes;
                minutes = idleMinutes[instance.OwnerId!] = shortOfMemory is null ? planned : Math.Min(planned, options.IdleMinutesWhenMemoryShort);
            }

            if (!instance.IsIdle(now, minutes))
            {
                continue;
            }

            await runtime.StopAsync(instance.Id, cancellationToken);
            instance.State = InstanceState.Stopped;
            idle.Add(instance);
            logger.LogInformation("Stopped idle instance {InstanceId} (no run since {LastActivity:u}{Reason})", instance.Id, instance.LastActivityAt, shortOfMemory is null ? "" : "; memory is short");
        }

        if (shortOfMemory is not null && idle.Count > 0)
        {
            logger.LogWarning("Memory is short ({Reading}): {Count} instances idle for {Minutes} minutes or more were stopped", shortOfMemory, idle.Count, options.IdleMinutesWhenMemoryShort);
        }

        await instances.UpdateAsync(idle, cancellationToken);
        foreach (var instance in idle)
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.InstanceStop, null, Instance.AuditTarget(instance.Id), AuditOutcome.Succeeded,
                $"idle since {instance.LastActivityAt:u}" + (shortOfMemory is null ? "" : $"; memory short ({shortOfMemory})")), cancellationToken);
        }

        var reclaimed = await ReclaimAsync(cancellationToken);
        return new Sweep(idle.Count, expired.Count, reclaimed);
    }

    /// <summary>What the instances' files may take: the setting, else half the disk that holds them; null where instances have volumes of their own.</summary>
    public long? DiskBudgetBytes =>
        options.DiskBudgetMegabytes > 0 ? options.DiskBudgetMegabytes * (1L << 20) : runtime.StorageCapacityBytes / 2;

    /// <summary>Drops the files of reclaimable instances until the instances are under their disk budget; returns how many.</summary>
    private async Task<int> ReclaimAsync(CancellationToken cancellationToken)
    {
        if (DiskBudgetBytes is not { } budget || runtime.StorageUsedBytes <= budget)
        {
            // Under the budget even if everything on the disk were the instances': nothing to measure.
            return 0;
        }

        var all = await instances.AllAsync(cancellationToken);
        var use = new Dictionary<Guid, long>();
        foreach (var instance in all)
        {
            use[instance.Id] = (await runtime.UsageAsync(instance.Id, cancellationToken))?.DiskBytes ?? 0;
        }

        var total = use.Values.Sum();
        if (total <= budget)
        {
            return 0;
        }

        var candidates = new List<(Instance Instance, bool Free, bool Guest)>();
        foreach (var instance in all.Where(i => i.CanBeReclaimed))
        {
            candidates.Add((instance, instance.ReclaimsFree(runtime.HasLayer), (await quotas.ForAccountAsync(instance.OwnerId!, cancellationToken)).PlanName == QuotaPlans.Anonymous));
        }

        var reclaimed = new List<Instance>();
        foreach (var (instance, _, _) in ReclaimOrder(candidates))
        {
            if (total <= budget)
            {
                break;
            }

            await runtime.DeleteAsync(instance.Id, cancellationToken);
            instance.State = InstanceState.Reclaimed;
            total -= use[instance.Id];
            reclaimed.Add(instance);
        }

        await instances.UpdateAsync(reclaimed, cancellationToken);
        foreach (var instance in reclaimed)
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.InstanceReclaim, null, Instance.AuditTarget(instance.Id), AuditOutcome.Succeeded,
                $"files dropped ({use[instance.Id]} bytes) to keep instances under {budget} bytes; state {instance.StateKey?[..12] ?? "unknown"} comes back from the cache or by replay"), cancellationToken);
        }

        if (total > budget)
        {
            logger.LogWarning("Instances take {Bytes} bytes, over their budget of {Budget}: the rest are running", total, budget);
        }
        else
        {
            logger.LogInformation("Dropped the files of {Count} stopped instances to keep instances under {Budget} bytes", reclaimed.Count, budget);
        }

        return reclaimed.Count;
    }

    /// <summary>
    /// Which reclaimable instance goes first: those whose state the cache holds (free to drop) before those
    /// whose next run replays, then guests' before registered students', then the longest unused.
    /// </summary>
    public static IEnumerable<(Instance Instance, bool Free, bool Guest)> ReclaimOrder(IEnumerable<(Instance Instance, bool Free, bool Guest)> candidates) =>
        candidates.OrderByDescending(c => c.Free).ThenByDescending(c => c.Guest).ThenBy(c => c.Instance.LastActivityAt);
}
