using Taidon.Core.Audit;
using Taidon.Core.Runs;

namespace Taidon.Core.Instances;

/// <summary>Every account's instances, for admins: list, stop, delete, extend, and delete what a filter finds. Each action is audited.</summary>
public sealed class InstanceAdministration(
    IInstanceStore instances,
    IRunJournal journal,
    IInstanceRuntime runtime,
    IInstanceGate gates,
    InstanceLifecycle lifecycle,
    IAuditLog audit,
    TimeProvider clock) : IInstanceActivity
{
    public const int MaxListed = 1000;

    public Task<IReadOnlyList<AdminInstance>> ListAsync(AdminInstanceFilter filter, CancellationToken cancellationToken) =>
        instances.ListForAdminAsync(filter, MaxListed, cancellationToken);

    public async Task<InstanceActivity> ActivityAsync(CancellationToken cancellationToken)
    {
        var states = await instances.CountByStateAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var runs = await journal.TallySinceAsync(now.AddHours(-1), cancellationToken);
        int Count(InstanceState state) => states.GetValueOrDefault(state);
        return new InstanceActivity(
            Count(InstanceState.Running), Count(InstanceState.Stopped), Count(InstanceState.Pooled),
            runs.Count(r => r.StartedAt >= now.AddMinutes(-5)) / 5.0,
            runs.Count,
            runs.Count(r => r.Failed),
            runs.Count == 0 ? null : (double)runs.Count(r => r.FoundInCache) / runs.Count);
    }

    /// <summary>What each instance uses, where the runtime can tell (the embedded runtime: its files on disk).</summary>
    public async Task<IReadOnlyDictionary<Guid, InstanceUsage>> UsageAsync(IEnumerable<Guid> instanceIds, CancellationToken cancellationToken)
    {
        var usage = new Dictionary<Guid, InstanceUsage>();
        foreach (var id in instanceIds)
        {
            if (await runtime.UsageAsync(id, cancellationToken) is { } used)
            {
                usage[id] = used;
            }
        }

        return usage;
    }

    /// <summary>What every instance's files take, against their disk budget (null where instances have volumes of their own).</summary>
    public async Task<(long Bytes, long? Budget)> DiskAsync(CancellationToken cancellationToken) =>
        ((await UsageAsync((await instances.AllAsync(cancellationToken)).Select(i => i.Id), cancellationToken)).Values.Sum(u => u.DiskBytes), lifecycle.DiskBudgetBytes);

    /// <summary>Stops an instance now (its data stays; the owner's next run starts it).</summary>
    public Task StopAsync(Guid instanceId, string actorId, CancellationToken cancellationToken) =>
        AloneAsync(instanceId, AuditActions.InstanceStop, actorId, async record =>
        {
            await runtime.StopAsync(instanceId, cancellationToken);
            record.State = InstanceState.Stopped;
            await instances.UpdateAsync(record, cancellationToken);
            return "stopped by an admin";
        }, cancellationToken);

    public Task DeleteAsync(Guid instanceId, string actorId, CancellationToken cancellationToken) =>
        AloneAsync(instanceId, AuditActions.InstanceDelete, actorId, async record =>
        {
            await runtime.DeleteAsync(instanceId, cancellationToken);
            await instances.RemoveAsync(instanceId, cancellationToken);
            return $"deleted by an admin; owner {record.OwnerId}";
        }, cancellationToken);

    /// <summary>Moves the expiry later (from now when it is already past).</summary>
    public Task ExtendAsync(Guid instanceId, TimeSpan by, string actorId, CancellationToken cancellationToken)
    {
        // Checked before the instance is looked up, so a wrong value says so whatever the instance.
        Instance.CheckExtension(by);
        return AloneAsync(instanceId, AuditActions.InstanceExtend, actorId, async record =>
        {
            record.Extend(by, clock.GetUtcNow());
            await instances.UpdateAsync(record, cancellationToken);
            return $"expires {record.ExpiresAt:u}";
        }, cancellationToken);
    }

    /// <summary>Deletes every instance the filter lists; returns how many.</summary>
    public async Task<int> DeleteManyAsync(AdminInstanceFilter filter, string actorId, CancellationToken cancellationToken)
    {
        var found = await ListAsync(filter, cancellationToken);
        foreach (var instance in found)
        {
            try
            {
                await DeleteAsync(instance.Id, actorId, cancellationToken);
            }
            catch (InstanceNotFoundException)
            {
                // Gone meanwhile (expired, or deleted by its owner).
            }
        }

        return found.Count;
    }

    private async Task AloneAsync(Guid instanceId, string action, string actorId, Func<Instance, Task<string>> change, CancellationToken cancellationToken)
    {
        await using var held = await gates.EnterAsync(instanceId, cancellationToken);
        var record = await instances.FindAsync(instanceId, cancellationToken) ?? throw new InstanceNotFoundException(instanceId);
        var detail = await change(record);
        await audit.RecordAsync(new AuditEvent(action, actorId, Instance.AuditTarget(instanceId), AuditOutcome.Succeeded, detail), cancellationToken);
    }
}
