using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Taidon.Core.Quotas;
using Taidon.Infrastructure.Quotas;

namespace Taidon.Infrastructure.Persistence.Stores;

/// <summary>Plans and accounts' plans in the control-plane database, their limits as JSON.</summary>
public sealed class QuotaStore(IDbContextFactory<ControlPlaneDbContext> contexts) : IQuotaStore
{
    private static JsonSerializerOptions Json => QuotaService.Json;

    public async Task<IReadOnlyList<StoredPlan>> PlansAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return [.. (await db.Plans.AsNoTracking().ToListAsync(cancellationToken)).Select(Read)];
    }

    public async Task<StoredPlan?> FindPlanAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Plans.AsNoTracking().SingleOrDefaultAsync(p => p.Name == name, cancellationToken) is { } plan ? Read(plan) : null;
    }

    public async Task SavePlanAsync(StoredPlan plan, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.Plans.FindAsync([plan.Name], cancellationToken);
        if (record is null)
        {
            record = new PlanRecord { Name = plan.Name, Limits = "" };
            db.Plans.Add(record);
        }

        record.Limits = JsonSerializer.Serialize(plan.Limits, Json);
        record.UpdatedAt = plan.UpdatedAt;
        record.UpdatedBy = plan.UpdatedBy;
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task DeletePlanAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Plans.Where(p => p.Name == name).ExecuteDeleteAsync(cancellationToken);
    }

    public async Task<bool> AnyAccountOnAsync(string planName, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.AccountPlans.AnyAsync(a => a.PlanName == planName, cancellationToken);
    }

    public async Task SaveAccountPlanAsync(string accountId, AccountPlan plan, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.AccountPlans.FindAsync([accountId], cancellationToken);
        if (record is null)
        {
            record = new AccountPlanRecord { AccountId = accountId };
            db.AccountPlans.Add(record);
        }

        record.PlanName = plan.PlanName;
        record.Override = plan.Override is null ? null : JsonSerializer.Serialize(plan.Override, Json);
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<(bool Guest, AccountPlan? Assigned, StoredPlan? Plan)> ForAccountAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var found = await (
            from user in db.Users.AsNoTracking().Where(u => u.Id == accountId)
            join assigned in db.AccountPlans.AsNoTracking() on user.Id equals assigned.AccountId into assignments
            from assigned in assignments.DefaultIfEmpty()
            join plan in db.Plans.AsNoTracking()
                on (assigned != null && assigned.PlanName != null ? assigned.PlanName : user.IsAnonymous ? QuotaPlans.Anonymous : QuotaPlans.Registered) equals plan.Name into plans
            from plan in plans.DefaultIfEmpty()
            select new { user.IsAnonymous, Assigned = assigned, Plan = plan }).SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            // No such account: a guest's limits, the least (and no plan an admin could have assigned).
            return (true, null, await FindPlanAsync(QuotaPlans.Anonymous, cancellationToken));
        }

        var assignedPlan = found.Assigned is null ? null : new AccountPlan(found.Assigned.PlanName, found.Assigned.Override is { } json ? JsonSerializer.Deserialize<QuotaOverride>(json, Json) : null);
        return (found.IsAnonymous, assignedPlan, found.Plan is null ? null : Read(found.Plan));
    }

    private static StoredPlan Read(PlanRecord record) => new(record.Name, JsonSerializer.Deserialize<Quota>(record.Limits, Json)!, record.UpdatedAt, record.UpdatedBy);
}
