using System.ComponentModel.DataAnnotations;

namespace Taidon.Core.Snapshots;

/// <summary>Settings of <c>Taidon:Snapshots</c>.</summary>
public sealed class SnapshotOptions
{
    public const string SectionName = "Taidon:Snapshots";

    /// <summary>The most the layers may take on disk; the garbage collector evicts the least valuable beyond it.</summary>
    [Range(1L << 20, long.MaxValue, ErrorMessage = "Taidon:Snapshots:BudgetBytes must be at least 1 MiB (1048576).")]
    public long BudgetBytes { get; set; } = 20L * 1024 * 1024 * 1024;

    /// <summary>
    /// The most of the budget one account's own layers (those taken inside its scripts) may take; beyond it
    /// the collector evicts that account's least valuable layers first, whatever the cache's total.
    /// </summary>
    [Range(0.1, 100, ErrorMessage = "Taidon:Snapshots:AccountSharePercent must be between 0.1 and 100.")]
    public double AccountSharePercent { get; set; } = 2;

    /// <summary>How long a recorded statement outcome (shown for cached statements) is kept.</summary>
    [Range(1, 3650, ErrorMessage = "Taidon:Snapshots:OutcomeRetentionDays must be between 1 and 3650.")]
    public int OutcomeRetentionDays { get; set; } = 90;
}
