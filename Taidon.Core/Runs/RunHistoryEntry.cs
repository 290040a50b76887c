namespace Taidon.Core.Runs;

/// <summary>One run of a student's, as their history shows it: the script and its text then, the plan and how it went.</summary>
public sealed class RunHistoryEntry
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

    /// <summary>Found its start in the cache: hot, continued, or a layer other than the base state.</summary>
    public bool FoundInCache => Start != RunStartKind.RestoreLayer || FromKey is not null;
}

/// <summary>How a run started, kept apart from the planner's enum so that the stored values never move.</summary>
public enum RunStartKind
{
    Hot = 0,
    ContinueOnInstance = 1,
    RestoreLayer = 2,
}

/// <summary>One run as the admin figures count it.</summary>
public sealed record RunTally(DateTimeOffset StartedAt, bool Failed, bool FoundInCache);
