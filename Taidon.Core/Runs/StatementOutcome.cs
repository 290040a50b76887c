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
    public static StatementOutcome Cached(int index) => new(index, StatementStatus.Cached, null, null, [], [], TimeSpan.Zero, null, false);

    public static StatementOutcome Skipped(int index) => new(index, StatementStatus.Skipped, null, null, [], [], TimeSpan.Zero, null, false);
}
