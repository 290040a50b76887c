using System.Text.Json;
using Taidon.Core.Audit;
using Taidon.Core.Instances;
using Taidon.Core.Projects;

namespace Taidon.Core.Quotas;

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
    IQuotaStore store,
    InstanceOptions instances,
    ProjectOptions projects,
    IAuditLog audit,
    IRateCounter runs,
    TimeProvider clock)
{
    /// <summary>How plans' limits read in the audit log.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The limits of a plan nobody changed yet: the settings (<c>Taidon:Instances</c>, <c>Taidon:Projects</c>).</summary>
    public Quota Defaults(string plan) => new(
        InstancesPerAccount: instances.MaxPerAccount,
        Cpu: "1",
        Memory: "512Mi",
        StorageMegabytes: 1024,
        IdleMinutes: instances.IdleMinutes,
        LifetimeHours: instances.LifetimeHours,
        StatementTimeoutSeconds: instances.StatementTimeoutSeconds,
        MaxResultRows: instances.MaxResultRows,
        RunsPerMinute: 60,
        ProjectsPerAccount: plan == QuotaPlans.Anonymous ? 1 : projects.MaxPerAccount);

    public async Task<IReadOnlyList<(string Name, Quota Limits, DateTimeOffset? UpdatedAt)>> PlansAsync(CancellationToken cancellationToken)
    {
        var stored = await store.PlansAsync(cancellationToken);
        var plans = new List<(string, Quota, DateTimeOffset?)>();
        foreach (var builtIn in new[] { QuotaPlans.Anonymous, QuotaPlans.Registered })
        {
            var plan = stored.FirstOrDefault(p => p.Name == builtIn);
            plans.Add((builtIn, plan?.Limits ?? Defaults(builtIn), plan?.UpdatedAt));
        }

        plans.AddRange(stored.Where(p => !QuotaPlans.IsBuiltIn(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => (p.Name, p.Limits, (DateTimeOffset?)p.UpdatedAt)));
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

        var before = await store.FindPlanAsync(name, cancellationToken);
        await store.SavePlanAsync(new StoredPlan(name, limits, clock.GetUtcNow(), actorId), cancellationToken);
        var after = JsonSerializer.Serialize(limits, Json);
        await audit.RecordAsync(new AuditEvent(AuditActions.PlanChange, actorId, "plan:" + name, AuditOutcome.Succeeded,
            before is null ? "created " + after : $"{JsonSerializer.Serialize(before.Limits, Json)} -> {after}"), cancellationToken);
    }

    public async Task DeletePlanAsync(string name, string actorId, CancellationToken cancellationToken)
    {
        if (QuotaPlans.IsBuiltIn(name))
        {
            throw new QuotaInvalidException([$"The {name} plan is built in: change its limits instead."]);
        }

        if (await store.AnyAccountOnAsync(name, cancellationToken))
        {
            throw new QuotaInvalidException([$"Accounts are on the {name} plan: move them to another plan first."]);
        }

        await store.DeletePlanAsync(name, cancellationToken);
        await audit.RecordAsync(new AuditEvent(AuditActions.PlanChange, actorId, "plan:" + name, AuditOutcome.Succeeded, "deleted"), cancellationToken);
    }

    /// <summary>Puts an account on a plan (null: the plan of its kind) with an override of single limits (null: none).</summary>
    public async Task AssignAsync(string accountId, string? planName, QuotaOverride? limits, string actorId, CancellationToken cancellationToken)
    {
        if (planName is not null && !QuotaPlans.IsBuiltIn(planName) && await store.FindPlanAsync(planName, cancellationToken) is null)
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

        var kept = limits is null || limits.IsEmpty ? null : limits;
        await store.SaveAccountPlanAsync(accountId, new AccountPlan(planName, kept), cancellationToken);
        await audit.RecordAsync(new AuditEvent(AuditActions.PlanAssign, actorId, "account:" + accountId, AuditOutcome.Succeeded,
            $"plan {planName ?? "(by kind)"}{(kept is null ? "" : ", override " + JsonSerializer.Serialize(kept, Json))}"), cancellationToken);
    }

    /// <summary>The limits an account runs under now: its own plan or its kind's, with its override.</summary>
    public async Task<AccountQuota> ForAccountAsync(string accountId, CancellationToken cancellationToken)
    {
        var (guest, assigned, plan) = await store.ForAccountAsync(accountId, cancellationToken);
        var name = assigned?.PlanName ?? (guest ? QuotaPlans.Anonymous : QuotaPlans.Registered);
        var limits = plan?.Limits ?? Defaults(name);
        var limitsOverride = assigned?.Override;
        return new AccountQuota(name, limitsOverride?.ApplyTo(limits) ?? limits, limitsOverride);
    }

    /// <summary>The account's quota and the instance settings it gives.</summary>
    public async Task<(Quota Quota, InstanceLimits Limits)> LimitsOfAsync(string accountId, CancellationToken cancellationToken)
    {
        var quota = (await ForAccountAsync(accountId, cancellationToken)).Effective;
        return (quota, InstanceLimitsOf(quota, instances.MaxConnections, accountId));
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
}
