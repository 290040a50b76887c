namespace Taidon.Infrastructure.Quotas;

/// <summary>A plan as the control plane stores it: its limits as JSON (<see cref="Core.Quotas.Quota"/>).</summary>
public sealed class PlanRecord
{
    public required string Name { get; set; }

    public required string Limits { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }
}

/// <summary>An account's own plan and its override of single limits, as JSON (<see cref="Core.Quotas.QuotaOverride"/>).</summary>
public sealed class AccountPlanRecord
{
    public required string AccountId { get; set; }

    public string? PlanName { get; set; }

    public string? Override { get; set; }
}
