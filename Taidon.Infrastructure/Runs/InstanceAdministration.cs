using Microsoft.EntityFrameworkCore;
using Taidon.Core.Audit;
using Taidon.Core.Instances;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Persistence.Records;

namespace Taidon.Infrastructure.Runs;

/// <summary>An instance as the admin pages list it, with its owner.</summary>
public sealed record AdminInstance(
    Guid Id, string? OwnerId, string? OwnerName, bool OwnerAnonymous, InstanceState State, string? StateKey,
    DateTimeOffset CreatedAt, DateTimeOffset LastActivityAt, DateTimeOffset ExpiresAt);

/// <summary>Which instances: an owner's name or id containing the text, a state; sorted by a column.</summary>
public sealed record AdminInstanceFilter(string? Owner = null, InstanceState? State = null, string Sort = "activity", bool Descending = true);

/// <summary>Every account's instances, for admins: list, stop, delete, extend, and delete what a filter finds. Each action is audited.</summary>
public sealed class InstanceAdministration(
    IDbContextFactory<ControlPlaneDbContext> contexts,
    IInstanceRuntime runtime,
    IInstanceGate gates,
    IAuditLog audit,
    TimeProvider clock) : IInstanceActivity
{
    public const int MaxListed = 1000;

    public async Task<IReadOnlyList<AdminInstance>> ListAsync(AdminInstanceFilter filter, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var query =
            from i in db.Instances.AsNoTracking()
            join u in db.Users.AsNoTracking() on i.OwnerId equals u.Id into owners
            from u in owners.DefaultIfEmpty()
            select new { Instance = i, Owner = u };
        if (!string.IsNullOrWhiteSpace(filter.Owner))
        {
            var owner = filter.Owner.Trim();
            var pattern = "%" + owner + "%";
            query = query.Where(x => x.Instance.OwnerId == owner
                || (x.Owner != null && (EF.Functions.ILike(x.Owner.Email ?? "", pattern) || EF.Functions.ILike(x.Owner.UserName ?? "", pattern))));
        }

        if (filter.State is { } state)
        {
            query = query.Where(x => x.Instance.State == state);
        }

        query = (filter.Sort, filter.Descending) switch
        {
            ("created", true) => query.OrderByDescending(x => x.Instance.CreatedAt),
            ("created", false) => query.OrderBy(x => x.Instance.CreatedAt),
            ("expiry", true) => query.OrderByDescending(x => x.Instance.ExpiresAt),
            ("expiry", false) => query.OrderBy(x => x.Instance.ExpiresAt),
            ("owner", true) => query.OrderByDescending(x => x.Owner!.Email ?? x.Owner.UserName),
            ("owner", false) => query.OrderBy(x => x.Owner!.Email ?? x.Owner.UserName),
            (_, false) => query.OrderBy(x => x.Instance.LastActivityAt),
            _ => query.OrderByDescending(x => x.Instance.LastActivityAt),
        };
        return await query.Take(MaxListed)
            .Select(x => new AdminInstance(x.Instance.Id, x.Instance.OwnerId, x.Owner == null ? null : x.Owner.Email ?? x.Owner.UserName, x.Owner != null && x.Owner.IsAnonymous,
                x.Instance.State, x.Instance.StateKey, x.Instance.CreatedAt, x.Instance.LastActivityAt, x.Instance.ExpiresAt))
            .ToListAsync(cancellationToken);
    }

    public async Task<InstanceActivity> ActivityAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var states = await db.Instances.GroupBy(i => i.State).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var hourAgo = now.AddHours(-1);
        var runs = await db.RunHistory.AsNoTracking().Where(r => r.StartedAt >= hourAgo)
            .Select(r => new { r.StartedAt, r.Outcome, Hit = r.Start != RunStartKind.RestoreLayer || r.FromKey != null })
            .ToListAsync(cancellationToken);
        int Count(InstanceState state) => states.FirstOrDefault(s => s.Key == state)?.Count ?? 0;
        return new InstanceActivity(
            Count(InstanceState.Running), Count(InstanceState.Stopped), Count(InstanceState.Pooled),
            runs.Count(r => r.StartedAt >= now.AddMinutes(-5)) / 5.0,
            runs.Count,
            runs.Count(r => r.Outcome == "failed"),
            runs.Count == 0 ? null : (double)runs.Count(r => r.Hit) / runs.Count);
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

    /// <summary>Stops an instance now (its data stays; the owner's next run starts it).</summary>
    public Task StopAsync(Guid instanceId, string actorId, CancellationToken cancellationToken) =>
        AloneAsync(instanceId, AuditActions.InstanceStop, actorId, async (db, record) =>
        {
            await runtime.StopAsync(instanceId, cancellationToken);
            record.State = InstanceState.Stopped;
            return "stopped by an admin";
        }, cancellationToken);

    public Task DeleteAsync(Guid instanceId, string actorId, CancellationToken cancellationToken) =>
        AloneAsync(instanceId, AuditActions.InstanceDelete, actorId, async (db, record) =>
        {
            await runtime.DeleteAsync(instanceId, cancellationToken);
            db.Instances.Remove(record);
            return $"deleted by an admin; owner {record.OwnerId}";
        }, cancellationToken);

    /// <summary>Moves the expiry later (from now when it is already past).</summary>
    public Task ExtendAsync(Guid instanceId, TimeSpan by, string actorId, CancellationToken cancellationToken)
    {
        if (by <= TimeSpan.Zero || by > TimeSpan.FromDays(365))
        {
            throw new ArgumentOutOfRangeException(nameof(by), "Extend an instance by 1 hour to 365 days.");
        }

        return AloneAsync(instanceId, AuditActions.InstanceExtend, actorId, (_, record) =>
        {
            var from = record.ExpiresAt > clock.GetUtcNow() ? record.ExpiresAt : clock.GetUtcNow();
            record.ExpiresAt = from + by;
            return Task.FromResult($"expires {record.ExpiresAt:u}");
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

    private async Task AloneAsync(Guid instanceId, string action, string actorId, Func<ControlPlaneDbContext, InstanceRecord, Task<string>> change, CancellationToken cancellationToken)
    {
        await using var held = await gates.EnterAsync(instanceId, cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.Instances.SingleOrDefaultAsync(i => i.Id == instanceId, cancellationToken) ?? throw new InstanceNotFoundException(instanceId);
        var detail = await change(db, record);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(new AuditEvent(action, actorId, RunService.Target(instanceId), AuditOutcome.Succeeded, detail), cancellationToken);
    }
}
