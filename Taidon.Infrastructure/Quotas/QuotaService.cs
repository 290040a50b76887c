using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Taidon.Core.Audit;
using Taidon.Core.Instances;
using Taidon.Core.Quotas;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Projects;
using Taidon.Infrastructure.Runs;

namespace Taidon.Infrastructure.Quotas;

/// <summary>A plan: a named set of limits (anonymous, registered, or a custom one for some accounts).</summary>
public sealed class PlanRecord
{
    public required string Name { get; set; }

    /// <summary>The limits, as JSON (<see cref="Quota"/>).</summary>
    public required string Limits { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }
}

/// <summary>An account's own plan (a custom one) and its override of single limits, when an admin gave it one.</summary>
public sealed class AccountPlanRecord
{
    public required string AccountId { get; set; }

    public string? PlanName { get; set; }

    /// <summary>Limits that differ for this account alone, as JSON (<see cref="QuotaOverride"/>); null when none.</summary>
    public string? Override { get; set; }
}

/// <summary>Single limits set for one account, over its plan's.</summary>
public sealed record QuotaOverride(int? InstancesPerAccount = null, int? StatementTimeoutSeconds = null, int? MaxResultRows = null,
    int? IdleMinutes = null, int? LifetimeHours = null, int? RunsPerMinute = null, int? ProjectsPerAccount = null)
{
    public Quota ApplyTo(Quota plan) => plan with
    {
        InstancesPerAccount = InstancesPerAccount ?? plan.InstancesPerAccount,
        StatementTimeoutSeconds = StatementTimeoutSeconds ?? plan.StatementTimeoutSeconds,
        MaxResultRows = MaxResultRows ?? plan.MaxResultRows,
        IdleMinutes = IdleMinutes ?? plan.IdleMinutes,
        LifetimeHours = LifetimeHours ?? plan.LifetimeHours,
        RunsPerMinute = RunsPerMinute ?? plan.RunsPerMinute,
        ProjectsPerAccount = ProjectsPerAccount ?? plan.ProjectsPerAccount,
    };

    public bool IsEmpty => this == new QuotaOverride();
}

/// <summary>The plan an account is under, with where it comes from.</summary>
public sealed record AccountQuota(string PlanName, Quota Effective, QuotaOverride? Override);

/// <summary>A plan's refusal: the limits were not valid.</summary>
public sealed class QuotaInvalidException(IReadOnlyList<string> problems) : Exception(string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// Plans and the limits each account runs under. A change applies to new runs at once (the next run
/// reads it); a running instance's server settings follow at its next restart.
/// </summary>
public sealed class QuotaService(
    IDbContextFactory<ControlPlaneDbContext> contexts,
    IOptions<InstanceOptions> instances,
    IOptions<ProjectOptions> projects,
    IAuditLog audit,
    IRateCounter runs,
    TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The limits of a plan nobody changed yet: the settings (<c>Taidon:Instances</c>, <c>Taidon:Projects</c>).</summary>
    public Quota Defaults(string plan)
    {
        var i = instances.Value;
        return new Quota(
            InstancesPerAccount: i.MaxPerAccount,
            Cpu: "1",
            Memory: "512Mi",
            StorageMegabytes: 1024,
            IdleMinutes: i.IdleMinutes,
            LifetimeHours: i.LifetimeHours,
            StatementTimeoutSeconds: i.StatementTimeoutSeconds,
            MaxResultRows: i.MaxResultRows,
            RunsPerMinute: 60,
            ProjectsPerAccount: plan == QuotaPlans.Anonymous ? 1 : projects.Value.MaxPerAccount);
    }

    public async Task<IReadOnlyList<(string Name, Quota Limits, DateTimeOffset? UpdatedAt)>> PlansAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var stored = await db.Plans.AsNoTracking().ToListAsync(cancellationToken);
        var plans = new List<(string, Quota, DateTimeOffset?)>();
        foreach (var builtIn in new[] { QuotaPlans.Anonymous, QuotaPlans.Registered })
        {
            var record = stored.FirstOrDefault(p => p.Name == builtIn);
            plans.Add((builtIn, record is null ? Defaults(builtIn) : Read(record), record?.UpdatedAt));
        }

        plans.AddRange(stored.Where(p => !QuotaPlans.IsBuiltIn(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => (p.Name, Read(p), (DateTimeOffset?)p.UpdatedAt)));
        return plans;
    }

    /// <summary>Creates or changes a plan; refused with the problems when a limit is not valid.</summary>
    public async Task SavePlanAsync(string name, Quota limits, string actorId, CancellationToken cancellationToken)
    {
        name = name.Trim().ToLowerInvariant();
        if (name.Length is 0 or > 64 || name.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_'))
        {
            throw new QuotaInvalidException(["A plan's name is 1 to 64 letters, digits, '-' or '_'."]);
        }

        var problems = limits.Problems();
        if (problems.Count > 0)
        {
            throw new QuotaInvalidException(problems);
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.Plans.FindAsync([name], cancellationToken);
        var before = record is null ? null : record.Limits;
        if (record is null)
        {
            record = new PlanRecord { Name = name, Limits = "" };
            db.Plans.Add(record);
        }

        record.Limits = JsonSerializer.Serialize(limits, Json);
        record.UpdatedAt = clock.GetUtcNow();
        record.UpdatedBy = actorId;
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(new AuditEvent(AuditActions.PlanChange, actorId, "plan:" + name, AuditOutcome.Succeeded,
            before is null ? "created " + record.Limits : $"{before} -> {record.Limits}"), cancellationToken);
    }

    public async Task DeletePlanAsync(string name, string actorId, CancellationToken cancellationToken)
    {
        if (QuotaPlans.IsBuiltIn(name))
        {
            throw new QuotaInvalidException([$"The {name} plan is built in: change its limits instead."]);
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (await db.AccountPlans.AnyAsync(a => a.PlanName == name, cancellationToken))
        {
            throw new QuotaInvalidException([$"Accounts are on the {name} plan: move them to another plan first."]);
        }

        await db.Plans.Where(p => p.Name == name).ExecuteDeleteAsync(cancellationToken);
        await audit.RecordAsync(new AuditEvent(AuditActions.PlanChange, actorId, "plan:" + name, AuditOutcome.Succeeded, "deleted"), cancellationToken);
    }

    /// <summary>Puts an account on a plan (null: the plan of its kind) with an override of single limits (null: none).</summary>
    public async Task AssignAsync(string accountId, string? planName, QuotaOverride? limits, string actorId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (planName is not null && !QuotaPlans.IsBuiltIn(planName) && await db.Plans.FindAsync([planName], cancellationToken) is null)
        {
            throw new QuotaInvalidException([$"There is no plan named '{planName}'."]);
        }

        if (limits is not null)
        {
            var problems = limits.ApplyTo(Defaults(QuotaPlans.Registered)).Problems();
            if (problems.Count > 0)
            {
                throw new QuotaInvalidException(problems);
            }
        }

        var record = await db.AccountPlans.FindAsync([accountId], cancellationToken);
        if (record is null)
        {
            record = new AccountPlanRecord { AccountId = accountId };
            db.AccountPlans.Add(record);
        }

        record.PlanName = planName;
        record.Override = limits is null || limits.IsEmpty ? null : JsonSerializer.Serialize(limits, Json);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(new AuditEvent(AuditActions.PlanAssign, actorId, "account:" + accountId, AuditOutcome.Succeeded,
            $"plan {planName ?? "(by kind)"}{(record.Override is null ? "" : ", override " + record.Override)}"), cancellationToken);
    }

    /// <summary>The limits an account runs under now: its own plan or its kind's, with its override.</summary>
    public async Task<AccountQuota> ForAccountAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var anonymous = await db.Users.AsNoTracking().Where(u => u.Id == accountId).Select(u => (bool?)u.IsAnonymous).SingleOrDefaultAsync(cancellationToken) ?? true;
        var assigned = await db.AccountPlans.AsNoTracking().SingleOrDefaultAsync(a => a.AccountId == accountId, cancellationToken);
        var name = assigned?.PlanName ?? (anonymous ? QuotaPlans.Anonymous : QuotaPlans.Registered);
        var plan = await db.Plans.AsNoTracking().SingleOrDefaultAsync(p => p.Name == name, cancellationToken);
        var limits = plan is null ? Defaults(name) : Read(plan);
        var limitsOverride = assigned?.Override is { } json ? JsonSerializer.Deserialize<QuotaOverride>(json, Json) : null;
        return new AccountQuota(name, limitsOverride?.ApplyTo(limits) ?? limits, limitsOverride);
    }

    /// <summary>The instance settings a quota gives (statement timeout, temporary files from storage; CPU, memory and the volume on Kubernetes).</summary>
    public static InstanceLimits InstanceLimitsOf(Quota quota, int maxConnections, string? owner = null) => new(
        MaxConnections: maxConnections,
        StatementTimeout: TimeSpan.FromSeconds(quota.StatementTimeoutSeconds),
        TempFileLimitBytes: quota.StorageMegabytes * 1024L * 1024 / 4,
        Cpu: quota.Cpu,
        Memory: quota.Memory,
        StorageMegabytes: quota.StorageMegabytes,
        Owner: owner);

    /// <summary>Counts a run against the account's runs per minute; false when the minute's runs are used up.</summary>
    public bool TryStartRun(string accountId, int perMinute) => runs.TryCount("runs:" + accountId, perMinute, TimeSpan.FromMinutes(1));

    private static Quota Read(PlanRecord record) => JsonSerializer.Deserialize<Quota>(record.Limits, Json)!;
}
