namespace Taidon.Infrastructure.Persistence.Records;

public enum InstanceState
{
    Running,
    Stopped,

    /// <summary>Its process was found dead or its files damaged: it is rebuilt from its state on the next run.</summary>
    Failed,

    /// <summary>Started in the base state and owned by nobody yet: the warm pool hands it to the next new instance.</summary>
    Pooled,
}

/// <summary>The control plane's record of an instance: whose it is, what state it holds, and how long it may live.</summary>
public sealed class InstanceRecord
{
    public Guid Id { get; set; }

    /// <summary>The account it belongs to; null while it waits in the warm pool.</summary>
    public string? OwnerId { get; set; }

    public InstanceState State { get; set; }

    /// <summary>The chain key of the database state it holds (lowercase hex), or null when unknown.</summary>
    public string? StateKey { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LastActivityAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>A snapshot layer as the cache keeps account of it: what it saves and how much it is used.</summary>
public sealed class LayerRecord
{
    public required string Key { get; set; }

    public string? ParentKey { get; set; }

    public long SizeBytes { get; set; }

    /// <summary>The replay time the layer saves, in milliseconds.</summary>
    public long BuildCostMilliseconds { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LastUsedAt { get; set; }

    public long Hits { get; set; }
}

/// <summary>A statement seen to change nothing: run in state <see cref="BeforeKey"/>, it would have led to <see cref="AfterKey"/>.</summary>
public sealed class NoOpStatementRecord
{
    public required string BeforeKey { get; set; }

    public required string AfterKey { get; set; }

    public DateTimeOffset SeenAt { get; set; }
}

/// <summary>What a state-changing statement did, by the chain key it leads to (see <c>IStatementOutcomeStore</c>).</summary>
public sealed class StatementOutcomeRecord
{
    public required string AfterKey { get; set; }

    public string? CommandTag { get; set; }

    public long? RowsAffected { get; set; }

    /// <summary>How long it took, in microseconds (what replaying it costs).</summary>
    public long? DurationMicroseconds { get; set; }

    /// <summary>The notices it raised, as a JSON array of strings.</summary>
    public string Notices { get; set; } = "[]";

    public DateTimeOffset RecordedAt { get; set; }
}

/// <summary>A project of an account: its scripts live in the project store's folder for this id.</summary>
public sealed class ProjectRecord
{
    public Guid Id { get; set; }

    public required string OwnerId { get; set; }

    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One run of a student's, as their history shows it: the script and its text then, the plan and how it went.</summary>
public sealed class RunHistoryRecord
{
    public Guid Id { get; set; }

    public required string OwnerId { get; set; }

    /// <summary>The file the head came from.</summary>
    public required string ScriptPath { get; set; }

    /// <summary>What ran as the head: the whole file when the script was run, the statements when a selection was.</summary>
    public required string Text { get; set; }

    public bool WholeScript { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public long DurationMilliseconds { get; set; }

    /// <summary>succeeded, failed or stopped.</summary>
    public required string Outcome { get; set; }

    public RunStartKind Start { get; set; }

    /// <summary>The layer restored or the state continued from; null when the run started from the base state.</summary>
    public string? FromKey { get; set; }

    public int Replayed { get; set; }

    public int HeadStatements { get; set; }

    /// <summary>The first error, as "SQLSTATE: message".</summary>
    public string? Error { get; set; }
}

/// <summary>How a run started, kept apart from the planner's enum so that the stored values never move.</summary>
public enum RunStartKind
{
    Hot = 0,
    ContinueOnInstance = 1,
    RestoreLayer = 2,
}

/// <summary>A setting an admin changed in the pages (over the configuration's default).</summary>
public sealed class SettingRecord
{
    public required string Key { get; set; }

    public required string Value { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
