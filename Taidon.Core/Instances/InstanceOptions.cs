using System.ComponentModel.DataAnnotations;

namespace Taidon.Core.Instances;

/// <summary>Settings of <c>Taidon:Instances</c>: the defaults every account gets until quotas (the admin pages) set others.</summary>
public sealed class InstanceOptions
{
    public const string SectionName = "Taidon:Instances";

    [Range(1, 100, ErrorMessage = "Taidon:Instances:MaxPerAccount must be between 1 and 100.")]
    public int MaxPerAccount { get; set; } = 2;

    /// <summary>Instances in the whole installation (the warm pool's included): past it, nobody gets a new one until some are deleted or expire.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Taidon:Instances:MaxTotal must be between 1 and 1000000.")]
    public int MaxTotal { get; set; } = 1000;

    [Range(1, 3600, ErrorMessage = "Taidon:Instances:StatementTimeoutSeconds must be between 1 and 3600.")]
    public int StatementTimeoutSeconds { get; set; } = 30;

    [Range(1, 1000, ErrorMessage = "Taidon:Instances:MaxConnections must be between 1 and 1000.")]
    public int MaxConnections { get; set; } = 10;

    [Range(1, 10_000_000, ErrorMessage = "Taidon:Instances:MaxResultRows must be between 1 and 10000000.")]
    public int MaxResultRows { get; set; } = 1000;

    [Range(1, 24 * 365, ErrorMessage = "Taidon:Instances:LifetimeHours must be between 1 and 8760.")]
    public int LifetimeHours { get; set; } = 24 * 7;

    /// <summary>An instance without a run for this long is stopped (it starts again, with its data, on the next run).</summary>
    [Range(1, 24 * 60, ErrorMessage = "Taidon:Instances:IdleMinutes must be between 1 and 1440.")]
    public int IdleMinutes { get; set; } = 15;

    /// <summary>
    /// When the machine that runs the instances has less than <see cref="MemoryShortPercent"/> of its memory
    /// available, instances without a run for this long are stopped, whatever the plans say (the embedded
    /// runtime; a stopped instance starts again, with its data, on its next run).
    /// </summary>
    [Range(1, 24 * 60, ErrorMessage = "Taidon:Instances:IdleMinutesWhenMemoryShort must be between 1 and 1440.")]
    public int IdleMinutesWhenMemoryShort { get; set; } = 2;

    /// <summary>Below this share of the machine's memory available (percent), idle instances are stopped sooner; 0 turns that off.</summary>
    [Range(0, 90, ErrorMessage = "Taidon:Instances:MemoryShortPercent must be between 0 and 90.")]
    public int MemoryShortPercent { get; set; } = 15;

    /// <summary>
    /// The embedded runtime's standby servers: PostgreSQL already running on the copy of the layer a student
    /// rewinds to next, so that the rewind is a switch to it rather than a start on the student's time. Each
    /// is one more idle server (about 20 MB); past this many in the installation, rewinds start PostgreSQL as
    /// before. Empty: four per core; 0 turns them off.
    /// </summary>
    [Range(0, 10_000, ErrorMessage = "Taidon:Instances:StandbyServers must be between 0 and 10000.")]
    public int? StandbyServers { get; set; }

    /// <summary>Instances kept started in the base state, so a new student's first run needs no start (0 turns the pool off).</summary>
    [Range(0, 1000, ErrorMessage = "Taidon:Instances:WarmPoolSize must be between 0 and 1000.")]
    public int WarmPoolSize { get; set; } = 2;

    /// <summary>
    /// Pooled instances wait in the state most runs restore (a class working on one course) instead of the
    /// base state, so a new student's first run is hot. Off: they wait in the base state.
    /// </summary>
    public bool WarmPoolAtPopularState { get; set; } = true;

    /// <summary>
    /// The most the instances' files may take (MB); past it the minutely job drops the files of stopped
    /// instances whose state the cache holds, guests' first. 0: half the disk that holds them.
    /// </summary>
    [Range(0, 1_000_000, ErrorMessage = "Taidon:Instances:DiskBudgetMegabytes must be between 0 and 1000000.")]
    public int DiskBudgetMegabytes { get; set; }

    /// <summary>The limits an instance runs with under these settings.</summary>
    public InstanceLimits ToLimits() => new(
        MaxConnections: MaxConnections,
        StatementTimeout: TimeSpan.FromSeconds(StatementTimeoutSeconds));
}
