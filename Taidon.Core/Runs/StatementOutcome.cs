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

/// <summary>
/// How much a run brings back, so that no student's output can fill the server's memory: rows per result
/// set, bytes per run (values and notices together), bytes per value (checked before a value is read, so a
/// bigger one is never held whole), and notices per statement and per run. Past a bound the answer keeps
/// what fit and says what was cut (<see cref="ResultCut"/>).
/// </summary>
public sealed record ResultLimits(
    int MaxRows = 1000,
    long MaxBytes = 8 * 1024 * 1024,
    int MaxValueBytes = 256 * 1024,
    int MaxNoticesPerStatement = 100,
    int MaxNoticesPerRun = 1000)
{
    /// <summary>
    /// How many notices one statement may raise before it is stopped: past its kept notices the rest are only
    /// counted, but reading them still costs the server's and the app's time, which a flood takes from
    /// every other student.
    /// </summary>
    public int NoticesBeforeStop => Math.Max(10_000, MaxNoticesPerStatement * 100);
}

/// <summary>What a bound cut from a statement's answer.</summary>
public enum ResultCutKind
{
    /// <summary>Rows past the rows per result set.</summary>
    Rows,

    /// <summary>Rows past the run's bytes.</summary>
    Bytes,

    /// <summary>Values longer than the bytes per value, cut to that length.</summary>
    Values,

    /// <summary>Notices past the notices per statement.</summary>
    NoticesPerStatement,

    /// <summary>Notices past the notices per run, or past the run's bytes.</summary>
    NoticesPerRun,
}

/// <summary>One bound reached: which, its value, and how many items it cut (rows, values or notices; 0 when not counted).</summary>
public sealed record ResultCut(ResultCutKind Kind, long Limit, long Count)
{
    /// <summary>In English, naming the limit and what the student can do.</summary>
    public string Describe() => Kind switch
    {
        ResultCutKind.Rows => $"Only the first {Limit} rows of a result are kept (your plan's rows per result); add a LIMIT or a WHERE to see others.",
        ResultCutKind.Bytes => $"The run's answer reached {Limit / 1024} KB (your plan's result size); later rows are not shown. Select fewer or narrower columns.",
        ResultCutKind.Values => $"{Count} values longer than {Limit / 1024} KB were cut to that length (your plan's value size); select a part with left() or substr().",
        ResultCutKind.NoticesPerStatement => $"{Count} notices past the first {Limit} of this statement were dropped (your plan's notices per statement).",
        _ => $"{Count} notices were dropped: the run keeps {Limit} notices at most (your plan's notices per run) within its result size.",
    };
}

/// <summary>
/// What a run has used of its <see cref="ResultLimits"/>: one per run, shared by its statements, so that the
/// bounds per run hold however many statements there are.
/// </summary>
public sealed class ResultBudget(ResultLimits limits)
{
    public ResultLimits Limits { get; } = limits;

    public long BytesLeft { get; private set; } = limits.MaxBytes;

    public int NoticesLeft { get; private set; } = limits.MaxNoticesPerRun;

    /// <summary>Takes <paramref name="bytes"/> of the run's bytes; false (taking nothing) when they are not left.</summary>
    public bool TryTakeBytes(long bytes)
    {
        if (bytes > BytesLeft)
        {
            return false;
        }

        BytesLeft -= bytes;
        return true;
    }

    /// <summary>Takes one notice of <paramref name="bytes"/>; false when the run's notices or bytes are used up.</summary>
    public bool TryTakeNotice(long bytes)
    {
        if (NoticesLeft <= 0 || bytes > BytesLeft)
        {
            return false;
        }

        NoticesLeft--;
        BytesLeft -= bytes;
        return true;
    }
}

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
    /// <summary>What the bounds of <see cref="ResultLimits"/> cut from this statement's answer.</summary>
    public IReadOnlyList<ResultCut> Cuts { get; init; } = [];

    /// <summary>
    /// The statement changed the session in a way a layer does not keep and the runner cannot apply again
    /// (a temporary table, set_config, PREPARE, a held cursor or lock, LISTEN, a role's or database's settings):
    /// no state after it is certain once the session ends.
    /// </summary>
    public bool TouchedSession { get; init; }

    /// <summary>A statement whose effect was restored, with what it did when it was executed (when recorded).</summary>
    public static StatementOutcome Cached(int index, RecordedOutcome? recorded = null) =>
        new(index, StatementStatus.Cached, recorded?.CommandTag, recorded?.RowsAffected, [], recorded?.Notices ?? [], TimeSpan.Zero, null, false);

    /// <summary>
    /// A statement not finished because the student stopped the run (PostgreSQL's query_canceled). What it
    /// did before the stop may have been committed (a procedure's COMMIT), so the state is not known after it.
    /// </summary>
    public static StatementOutcome Stopped(SqlStatement statement, TimeSpan duration) =>
        new(statement.Index, StatementStatus.Error, null, null, [], [], duration,
            new RunError("57014", "You stopped the run; this statement did not finish (the next run starts from a saved state).", null, null, statement.Span.File, statement.Locate(1)), true);

    public static StatementOutcome Skipped(int index) => new(index, StatementStatus.Skipped, null, null, [], [], TimeSpan.Zero, null, false);
}
