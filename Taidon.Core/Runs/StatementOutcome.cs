using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

public enum StatementStatus
{
    /// <summary>Its effect came from the instance's state or a layer: not executed in this run.</summary>
    Cached,
    Executed,

    /// <summary>Not run, because a statement before it failed.</summary>
    Skipped,
    Error,
}

/// <summary>How big a result a run keeps: rows beyond these are dropped and the result is marked truncated.</summary>
public sealed record ResultLimits(int MaxRows = 1000, long MaxBytes = 4 * 1024 * 1024);

public sealed record ResultColumn(string Name, string TypeName);

/// <summary>A result set: values in PostgreSQL's text form (null for NULL).</summary>
public sealed record ResultSet(IReadOnlyList<ResultColumn> Columns, IReadOnlyList<string?[]> Rows, bool Truncated);

/// <summary>A statement's error as PostgreSQL gave it, with its position mapped to the file, line and column typed.</summary>
public sealed record RunError(string SqlState, string Message, string? Detail, string? Hint, string File, SourcePosition? Position);

/// <summary>What one statement did.</summary>
public sealed record StatementOutcome(
    int Index,
    StatementStatus Status,
    string? CommandTag,
    long? RowsAffected,
    IReadOnlyList<ResultSet> Results,
    IReadOnlyList<string> Notices,
    TimeSpan Duration,
    RunError? Error,
    bool ChangedState)
{
    /// <summary>A statement whose effect was restored, with what it did when it was executed (when recorded).</summary>
    public static StatementOutcome Cached(int index, RecordedOutcome? recorded = null) =>
        new(index, StatementStatus.Cached, recorded?.CommandTag, recorded?.RowsAffected, [], recorded?.Notices ?? [], TimeSpan.Zero, null, false);

    /// <summary>A statement not finished because the student stopped the run (PostgreSQL's query_canceled).</summary>
    public static StatementOutcome Stopped(SqlStatement statement, TimeSpan duration) =>
        new(statement.Index, StatementStatus.Error, null, null, [], [], duration,
            new RunError("57014", "You stopped the run; this statement did not finish and changed nothing.", null, null, statement.Span.File, statement.Locate(1)), false);

    public static StatementOutcome Skipped(int index) => new(index, StatementStatus.Skipped, null, null, [], [], TimeSpan.Zero, null, false);
}
