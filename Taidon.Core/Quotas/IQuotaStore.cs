namespace Taidon.Core.Quotas;

/// <summary>A plan as it is stored: its limits and who changed it last.</summary>
public sealed record StoredPlan(string Name, Quota Limits, DateTimeOffset UpdatedAt, string? UpdatedBy);

/// <summary>The plan an admin put an account on (null: the plan of its kind) and its own limits over it.</summary>
public sealed record AccountPlan(string? PlanName, QuotaOverride? Override);

/// <summary>Where plans and accounts' plans are kept (the port; the control-plane database implements it).</summary>
public interface IQuotaStore
{
    Task<IReadOnlyList<StoredPlan>> PlansAsync(CancellationToken cancellationToken);

    Task<StoredPlan?> FindPlanAsync(string name, CancellationToken cancellationToken);

    Task SavePlanAsync(StoredPlan plan, CancellationToken cancellationToken);

    Task DeletePlanAsync(string name, CancellationToken cancellationToken);

    Task<bool> AnyAccountOnAsync(string planName, CancellationToken cancellationToken);

    Task SaveAccountPlanAsync(string accountId, AccountPlan plan, CancellationToken cancellationToken);

    /// <summary>
    /// In one round trip (a class asks on every run): whether the account is a guest's (one that does not
    /// exist counts as a guest: the least is given), the plan an admin
    /// put it on, and the stored plan it runs under (its own, else its kind's; null while that plan keeps
    /// the settings' defaults).
    /// </summary>
    Task<(bool Guest, AccountPlan? Assigned, StoredPlan? Plan)> ForAccountAsync(string accountId, CancellationToken cancellationToken);
}
