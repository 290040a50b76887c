namespace Taidon.Core.SqlChain;

/// <summary>How a run gets the instance into the state before its head.</summary>
public enum RunStart
{
    /// <summary>The instance is already in the state before the head: the head runs at once.</summary>
    Hot,

    /// <summary>The instance is in an earlier state of this chain: the statements in between are replayed on it.</summary>
    ContinueOnInstance,

    /// <summary>The longest cached prefix is restored from its layer (the base state at worst), then the rest is replayed.</summary>
    RestoreLayer,
}

/// <summary>What the planner needs to know about a run.</summary>
/// <param name="Statements">The chain: init, seed and the script being run.</param>
/// <param name="Keys">h_0..h_n for the chain (<see cref="ChainKeys.Compute"/>).</param>
/// <param name="HeadStart">The first statement to run now; everything before it is the tail.</param>
/// <param name="HeadEnd">One past the last statement to run now.</param>
/// <param name="InstanceState">The state the instance is in, or null when unknown (then it is never trusted).</param>
/// <param name="HasLayer">Whether the snapshot cache holds a layer for a key (h_0, the base state, always counts).</param>
/// <param name="Cost">What replaying a statement costs (measured when known); <see cref="StatementCost.Estimate"/> when null.</param>
/// <param name="Policy">Where layers go; <see cref="LayerPolicy.Default"/> when null.</param>
/// <param name="HasOutcome">
/// Whether the outcome of the statement leading to a key is recorded. When given, the start may reach
/// into the head over statements that change the database and whose outcome is known (they are shown
/// cached), BEGIN, COMMIT and SET included (a SET before the start is applied again); it stops at the first
/// statement that must run to show something (a query, which changes nothing) or to hold afterwards (a
/// temporary table).
/// </param>
public sealed record RunRequest(
    IReadOnlyList<SqlStatement> Statements,
    IReadOnlyList<ChainKey> Keys,
    int HeadStart,
    int HeadEnd,
    ChainKey? InstanceState,
    Func<ChainKey, bool> HasLayer,
    Func<SqlStatement, TimeSpan>? Cost = null,
    LayerPolicy? Policy = null,
    Func<ChainKey, bool>? HasOutcome = null);

/// <summary>
/// The plan of a run: start from <see cref="From"/> (by <see cref="Start"/>), re-apply the session
/// statements before it, replay statements From..HeadStart-1 taking a layer at each state index in
/// <see cref="Layers"/>, then run the head. <see cref="From"/> is past <see cref="HeadStart"/> when the
/// head's first statements are cached.
/// </summary>
public sealed record RunPlan(
    RunStart Start,
    int From,
    ChainKey FromKey,
    IReadOnlyList<int> SessionStatements,
    IReadOnlyList<int> Layers,
    int HeadStart,
    int HeadEnd,
    TimeSpan ReplayCost)
{
    public int ReplayCount => Math.Max(0, HeadStart - From);

    /// <summary>How many statements of the head were not executed because their effect was already there.</summary>
    public int HeadCached => Math.Max(0, From - HeadStart);

    public IEnumerable<int> Replay => Enumerable.Range(From, ReplayCount);

    /// <summary>One line for the plan chip: hot, or restored layer (short key), or continued, with the replay count.</summary>
    public string Describe() => Start switch
    {
        RunStart.Hot => "hot",
        RunStart.ContinueOnInstance => $"continued on the instance, replayed {ReplayCount} {Statements(ReplayCount)}",
        _ when From == 0 => $"restored the base state, replayed {ReplayCount} {Statements(ReplayCount)}",
        _ => $"restored layer {FromKey.Short}, replayed {ReplayCount} {Statements(ReplayCount)}",
    } + (HeadCached > 0 ? $", {HeadCached} head {Statements(HeadCached)} cached" : "");

    private static string Statements(int count) => count == 1 ? "statement" : "statements";
}

/// <summary>Estimated replay costs, for statements the runner has not timed yet.</summary>
public static class StatementCost
{
    public static TimeSpan Estimate(SqlStatement statement) =>
        TimeSpan.FromMilliseconds(2)
        + TimeSpan.FromMicroseconds(statement.Text.Length)
        + TimeSpan.FromMicroseconds((statement.CopyData?.Length ?? 0) / 2.0);
}

public static class RunPlanner
{
    public static RunPlan Plan(RunRequest request)
    {
        var statements = request.Statements;
        var keys = request.Keys;
        var n = statements.Count;
        if (keys.Count != n + 1)
        {
            throw new ArgumentException($"A chain of {n} statements has {n + 1} keys, not {keys.Count}.", nameof(request));
        }

        if (request.HeadStart < 0 || request.HeadStart > request.HeadEnd || request.HeadEnd > n)
        {
            throw new ArgumentOutOfRangeException(nameof(request), $"The head {request.HeadStart}..{request.HeadEnd} is not within the chain's {n} statements.");
        }

        var policy = request.Policy ?? LayerPolicy.Default;
        var cost = request.Cost ?? StatementCost.Estimate;
        var tail = request.HeadStart;
        var clean = CleanBoundaries(statements);
        var reach = Reach(request);

        // The longest cached prefix (h_0, the base state, is always there).
        var restore = 0;
        for (var i = reach; i > 0; i--)
        {
            if (clean[i] && request.HasLayer(keys[i]))
            {
                restore = i;
                break;
            }
        }

        // The instance is already where the head starts (or further, past head statements already known),
        // unless a layer further on saves more than restoring it costs.
        if (request.InstanceState is { } state)
        {
            for (var i = reach; i >= tail; i--)
            {
                if (state == keys[i] && clean[i] && (i >= restore || Sum(statements, cost, i, restore) < policy.RestoreCost))
                {
                    return new RunPlan(RunStart.Hot, i, keys[i], SessionStatements(statements, i), [], tail, request.HeadEnd, TimeSpan.Zero);
                }
            }
        }

        // The instance's place on this chain.
        var onInstance = -1;
        if (request.InstanceState is { } current)
        {
            for (var i = reach; i >= 0; i--)
            {
                if (clean[i] && keys[i] == current)
                {
                    onInstance = i;
                    break;
                }
            }
        }

        var start = RunStart.RestoreLayer;
        var from = restore;
        if (onInstance >= 0)
        {
            var extraReplay = Sum(statements, cost, onInstance, restore);
            if (onInstance >= restore || extraReplay < policy.RestoreCost)
            {
                start = RunStart.ContinueOnInstance;
                from = onInstance;
            }
        }

        var layers = new List<int>();
        var sinceLayer = TimeSpan.Zero;
        var total = TimeSpan.Zero;
        for (var i = from; i < tail; i++)
        {
            var c = cost(statements[i]);
            sinceLayer += c;
            total += c;
            var after = i + 1;
            if (!clean[after])
            {
                continue;
            }

            if (request.HasLayer(keys[after]))
            {
                sinceLayer = TimeSpan.Zero;
            }
            else if (policy.WorthALayer(sinceLayer, atEndOfTail: after == tail))
            {
                layers.Add(after);
                sinceLayer = TimeSpan.Zero;
            }
        }

        return new RunPlan(start, from, keys[from], SessionStatements(statements, from), layers, tail, request.HeadEnd, total);
    }

    /// <summary>How far into the head a start may be: past the leading head statements that change the database and whose outcome is recorded.</summary>
    private static int Reach(RunRequest request)
    {
        var reach = request.HeadStart;
        if (request.HasOutcome is not { } hasOutcome)
        {
            return reach;
        }

        while (reach < request.HeadEnd
               && !MentionsTemporary(request.Statements[reach])
               && request.Keys[reach + 1] != request.Keys[reach]
               && hasOutcome(request.Keys[reach + 1]))
        {
            reach++;
        }

        return reach;
    }

    /// <summary>
    /// A temporary table or view lives in the session, not in the state a key names: a statement that may
    /// make one runs again, so that what follows it finds it.
    /// </summary>
    private static bool MentionsTemporary(SqlStatement statement) =>
        statement.Normalized.Contains(" temp ", StringComparison.Ordinal) || statement.Normalized.Contains(" temporary ", StringComparison.Ordinal);

    /// <summary>clean[i]: after the first i statements no transaction block is open, so the state can be a layer.</summary>
    private static bool[] CleanBoundaries(IReadOnlyList<SqlStatement> statements)
    {
        var clean = new bool[statements.Count + 1];
        clean[0] = true;
        var inTransaction = false;
        for (var i = 0; i < statements.Count; i++)
        {
            inTransaction = statements[i].Kind switch
            {
                StatementKind.TransactionStart => true,
                StatementKind.TransactionEnd => false,
                _ => inTransaction,
            };
            clean[i + 1] = !inTransaction;
        }

        return clean;
    }

    /// <summary>
    /// The session statements (SET, RESET, DISCARD) before <paramref name="end"/> that still hold there: a
    /// layer keeps the database, not the session, so these run again first. Those in a block that rolled
    /// back are left out.
    /// </summary>
    private static IReadOnlyList<int> SessionStatements(IReadOnlyList<SqlStatement> statements, int end)
    {
        var kept = new List<int>();
        var pending = new List<int>();
        var inTransaction = false;
        for (var i = 0; i < end; i++)
        {
            var statement = statements[i];
            switch (statement.Kind)
            {
                case StatementKind.TransactionStart:
                    inTransaction = true;
                    pending.Clear();
                    break;
                case StatementKind.TransactionEnd:
                    if (!statement.Normalized.StartsWith("rollback", StringComparison.Ordinal) && !statement.Normalized.StartsWith("abort", StringComparison.Ordinal))
                    {
                        kept.AddRange(pending);
                    }

                    pending.Clear();
                    inTransaction = false;
                    break;
                case StatementKind.Session:
                    (inTransaction ? pending : kept).Add(i);
                    break;
            }
        }

        return kept;
    }

    private static TimeSpan Sum(IReadOnlyList<SqlStatement> statements, Func<SqlStatement, TimeSpan> cost, int from, int to)
    {
        var total = TimeSpan.Zero;
        for (var i = from; i < to; i++)
        {
            total += cost(statements[i]);
        }

        return total;
    }
}
