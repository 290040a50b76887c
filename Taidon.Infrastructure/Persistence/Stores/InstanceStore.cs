using Microsoft.EntityFrameworkCore;
using Taidon.Core.Instances;

namespace Taidon.Infrastructure.Persistence.Stores;

/// <summary>The instances in the control-plane database.</summary>
public sealed class InstanceStore(IDbContextFactory<ControlPlaneDbContext> contexts) : IInstanceStore
{
    public async Task<IReadOnlyList<Instance>> OfOwnerAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Instances.AsNoTracking().Where(i => i.OwnerId == ownerId).OrderBy(i => i.CreatedAt).ToListAsync(cancellationToken);
    }

    public async Task<Instance?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Instances.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, cancellationToken);
    }

    public async Task<IReadOnlyList<Instance>> AllAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Instances.AsNoTracking().ToListAsync(cancellationToken);
    }

    public async Task<int> CountAsync(string? ownerId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return ownerId is null
            ? await db.Instances.CountAsync(cancellationToken)
            : await db.Instances.CountAsync(i => i.OwnerId == ownerId, cancellationToken);
    }

    public async Task<int> CountOwnedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Instances.CountAsync(i => i.OwnerId != null && i.CreatedAt >= since, cancellationToken);
    }

    public async Task<IReadOnlyDictionary<InstanceState, int>> CountByStateAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Instances.GroupBy(i => i.State).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
    }

    public async Task AddAsync(Instance instance, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Instances.Add(instance);
        await db.SaveChangesAsync(cancellationToken);
    }

    public Task UpdateAsync(Instance instance, CancellationToken cancellationToken) => UpdateAsync([instance], cancellationToken);

    public async Task UpdateAsync(IReadOnlyCollection<Instance> instances, CancellationToken cancellationToken)
    {
        if (instances.Count == 0)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Instances.UpdateRange(instances);
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task RemoveAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Instances.Where(i => i.Id == id).ExecuteDeleteAsync(cancellationToken);
    }

    public async Task<Instance?> ClaimPooledAsync(string ownerId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);

        // A row lock that skips locked rows: two replicas never hand out the same instance.
        var claimed = await db.Database.SqlQuery<Guid>(
            $"""
            UPDATE instances SET "OwnerId" = {ownerId}, "State" = 'Running', "CreatedAt" = {now}, "LastActivityAt" = {now}, "ExpiresAt" = {expiresAt}
            WHERE "Id" = (SELECT "Id" FROM instances WHERE "State" = 'Pooled' AND "OwnerId" IS NULL ORDER BY "CreatedAt" LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING "Id" AS "Value"
            """).ToListAsync(cancellationToken);
        return claimed.Count == 0 ? null : await db.Instances.AsNoTracking().SingleAsync(i => i.Id == claimed[0], cancellationToken);
    }

    public async Task<bool> MoveWhileUnclaimedAsync(Guid id, string stateKey, Func<CancellationToken, Task> move, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var locked = await db.Database.BeginTransactionAsync(cancellationToken);
        var stillPooled = await db.Database.SqlQuery<Guid>(
            $"""SELECT "Id" AS "Value" FROM instances WHERE "Id" = {id} AND "OwnerId" IS NULL FOR UPDATE SKIP LOCKED""").ToListAsync(cancellationToken);
        if (stillPooled.Count == 1)
        {
            await move(cancellationToken);
            await db.Instances.Where(i => i.Id == id).ExecuteUpdateAsync(i => i.SetProperty(x => x.StateKey, stateKey), cancellationToken);
        }

        await locked.CommitAsync(cancellationToken);
        return stillPooled.Count == 1;
    }

    public async Task<IReadOnlyList<AdminInstance>> ListForAdminAsync(AdminInstanceFilter filter, int max, CancellationToken cancellationToken)
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
        return await query.Take(max)
            .Select(x => new AdminInstance(x.Instance.Id, x.Instance.OwnerId, x.Owner == null ? null : x.Owner.Email ?? x.Owner.UserName, x.Owner != null && x.Owner.IsAnonymous,
                x.Instance.State, x.Instance.StateKey, x.Instance.CreatedAt, x.Instance.LastActivityAt, x.Instance.ExpiresAt))
            .ToListAsync(cancellationToken);
    }
}
