using Microsoft.Extensions.Logging;

namespace Taidon.Core.Instances;

/// <summary>
/// Makes the control plane's records and the runtime's instances agree, at start and as a recurring job:
/// instances without a record (an hour old: younger ones may be being made) are stopped and removed; records of instances whose process died are
/// marked stopped (they start on the next run); records whose instance is gone are marked failed (it is
/// rebuilt on the next run).
/// </summary>
public sealed class InstanceReconciliation(
    IInstanceStore instances,
    Lazy<IInstanceRuntime> runtime,
    IInstanceGate gates,
    TimeProvider clock,
    ILogger<InstanceReconciliation> logger)
{
    /// <summary>
    /// How old an instance without a record must be to count as an orphan: an instance is made before its
    /// record is written (a pod may take minutes to start; the base state's builder never has one).
    /// </summary>
    public static readonly TimeSpan OrphanAge = TimeSpan.FromHours(1);

    public sealed record Report(int OrphansRemoved, int MarkedStopped, int MarkedFailed);

    public async Task<Report> ReconcileAsync(CancellationToken cancellationToken)
    {
        var records = await instances.AllAsync(cancellationToken);
        var present = await runtime.Value.ListAsync(cancellationToken);
        var onDisk = present.Select(i => i.Id).ToHashSet();
        if (records.Count == 0 && onDisk.Count == 0)
        {
            return new Report(0, 0, 0);
        }

        var recorded = records.Select(r => r.Id).ToHashSet();
        var orphans = present.Where(i => !recorded.Contains(i.Id) && i.CreatedAt < clock.GetUtcNow() - OrphanAge).Select(i => i.Id).ToList();
        foreach (var orphan in orphans)
        {
            await runtime.Value.DeleteAsync(orphan, cancellationToken);
            logger.LogWarning("Removed instance {InstanceId}: it had no record in the control plane", orphan);
        }

        var changed = new List<Instance>();
        foreach (var seen in records.Where(r => onDisk.Contains(r.Id) ? r.State == InstanceState.Running : !r.NeedsRebuild))
        {
            // Looked at again while no run, restore or start holds it (on this replica or another): a restore
            // in progress looks like a stopped or missing instance, and the record a run writes is newer.
            await using var held = await gates.EnterAsync(seen.Id, cancellationToken);
            if (await instances.FindAsync(seen.Id, cancellationToken) is not { } record)
            {
                continue;
            }

            if (!(await runtime.Value.ListAsync(cancellationToken)).Any(i => i.Id == record.Id))
            {
                if (!record.NeedsRebuild)
                {
                    record.State = InstanceState.Failed;
                    record.StateKey = null;
                    await instances.UpdateAsync([record], cancellationToken);
                    changed.Add(record);
                    logger.LogWarning("Instance {InstanceId} has a record but no data; it will be rebuilt on its next run", record.Id);
                }
            }
            else if (record.State == InstanceState.Running && !await runtime.Value.IsRunningAsync(record.Id, cancellationToken))
            {
                record.State = InstanceState.Stopped;
                await instances.UpdateAsync([record], cancellationToken);
                changed.Add(record);
                logger.LogWarning("Instance {InstanceId} was not running; it starts again on its next run", record.Id);
            }
        }

        return new Report(orphans.Count, changed.Count(r => r.State == InstanceState.Stopped), changed.Count(r => r.State == InstanceState.Failed));
    }
}
