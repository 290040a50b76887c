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

    Task<AccountPlan?> AccountPlanAsync(string accountId, CancellationToken cancellationToken);

    Task SaveAccountPlanAsync(string accountId, AccountPlan plan, CancellationToken cancellationToken);

    /// <summary>Whether the account is a guest's (an account that does not exist counts as one: the least is given).</summary>
    Task<bool> IsGuestAsync(string accountId, CancellationToken cancellationToken);
}
