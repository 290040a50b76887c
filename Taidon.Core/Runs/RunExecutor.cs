using Taidon.Core.Instances;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

/// <summary>
/// A run to execute: a keyed chain, the head to run now, and the instance it runs on.
/// <paramref name="EditPoint"/> is the first statement the student changed since the script's last run
/// (<see cref="ScriptEdits"/>): the state before it is worth a layer, since the next edit is likely there again.
/// </summary>
public sealed record ChainRun(
    Guid InstanceId,
    InstanceLimits Limits,
    AnalyzedChain Chain,
    int HeadStart,
    int HeadEnd,
    ChainKey? InstanceState,
    ResultLimits ResultLimits,
    LayerPolicy? Policy = null,
    int? EditPoint = null)
{
    /// <summary>The first statement of the script being run (the file of the head's last statement): what the student edits.</summary>
    public int ScriptStart
    {
        get
        {
            if (HeadEnd == 0)
            {
                return 0;
            }

            var file = Chain.Statements[HeadEnd - 1].Span.File;
            var start = HeadEnd - 1;
            while (start > 0 && Chain.Statements[start - 1].Span.File == file)
            {
                start--;
            }

            return start;
        }
    }
}

/// <summary>What a run is doing.</summary>
public enum RunPhase
{
    /// <summary>Waiting for a turn: the installation runs as many as it may at once (the current count is the place in the queue).</summary>
    Queued,

    /// <summary>Restoring the layer named by the subject (the replay count is the total).</summary>
    Restoring,
    Replaying,
    Running,

    /// <summary>Publishing the layer named by the subject.</summary>
    TakingLayer,

    /// <summary>Running the test script named by the subject (current and total count tests).</summary>
    Testing,

    /// <summary>Timing a bench/ query (current and total count queries; the subject is the repetition, "2/5").</summary>
    Benchmarking,
}

/// <summary>How far a run is: statement <see cref="Current"/> of <see cref="Total"/> to replay or run.</summary>
public sealed record RunProgress(int Current, int Total, RunPhase Phase, string? Subject = null)
{
    /// <summary>The phase in a few English words ("restoring layer 3fa1…", "replaying", "running").</summary>
    public string Describe() => Phase switch
    {
        RunPhase.Queued => $"busy: queued, place {Current}",
        RunPhase.Restoring => $"restoring layer {Subject}",
        RunPhase.TakingLayer => $"taking layer {Subject}",
        RunPhase.Testing => $"testing {Subject}",
        RunPhase.Benchmarking => $"benchmarking, repetition {Subject}",
        _ => Phase.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// A layer a run took: whether it lies inside the script being run (then it is the student's, not the
/// course's), what capturing it cost, and the statement time of this run up to it (what a restore of it saves at least).
/// </summary>
public sealed record TakenLayer(SnapshotLayer Layer, bool InScript, TimeSpan BuildTime, TimeSpan ReplaySaved);

/// <summary>
/// What a run did: its plan, an outcome per statement of the chain, the state the instance is in
/// afterwards (null when unknown), the statements seen to change nothing, and the layers taken.
/// </summary>
public sealed record RunResult(
    RunPlan Plan,
    IReadOnlyList<StatementOutcome> Outcomes,
    ChainKey? FinalState,
    IReadOnlyList<(ChainKey Before, ChainKey After)> NoOps,
    IReadOnlyList<TakenLayer> LayersTaken,
    TimeSpan Duration)
{
    /// <summary>The student stopped the run before it finished.</summary>
    public bool Stopped { get; init; }

    /// <summary>Time spent executing the head's statements.</summary>
    public TimeSpan HeadDuration => Outcomes.Where(o => o.Index >= Plan.HeadStart).Aggregate(TimeSpan.Zero, (sum, o) => sum + o.Duration);

    public bool Succeeded => Outcomes.All(o => o.Status is StatementStatus.Cached or StatementStatus.Executed);
}

/// <summary>
/// Executes a run as planned: brings the instance to the starting state (at once, by restoring a layer,
/// or by continuing on it), re-applies the session settings, replays the tail taking the planned layers,
/// then runs the head. The state key moves only when a statement changed the database; it is kept only
/// while the state is certainly what a clean replay of the chain makes (else the next run restores).
/// </summary>
public sealed class RunExecutor(
    IInstanceRuntime runtime,
    ISqlSessionFactory sessions,
    TimeProvider clock,
    ILayerBuildGate? gate = null,
    IStatementOutcomeStore? outcomeStore = null,
    IStorageGuard? storageGuard = null)
{
    private const int MaxPlanAttempts = 3;
    private const int MaxRecordedNotices = 20;

    /// <summary>What the last capture inside a script cost (ticks), in any run: a run's first capture is weighed with it.</summary>
    private long _lastScriptCapture;

    /// <summary>
    /// Runs the chain. Cancelling <paramref name="cancellationToken"/> stops the run (the statement running
    /// is cancelled on the server): the result marks that statement as stopped and the rest as skipped.
    /// </summary>
    public async Task<RunResult> RunAsync(ChainRun run, IProgress<RunProgress>? progress, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        var statements = run.Chain.Statements;
        var keys = run.Chain.Keys;
        var recorded = await RecordedOutcomesAsync(run);
        RunPlan plan;
        var attempt = 0;
        while (true)
        {
            plan = Plan(run, recorded);
            if (plan.Start != RunStart.RestoreLayer)
            {
                break;
            }

            try
            {
                progress?.Report(new RunProgress(0, plan.ReplayCount, RunPhase.Restoring, plan.FromKey.Short));

                // A restore is short and leaves the instance whole only when it finishes: it is not cancelled.
                await runtime.RestoreAsync(run.InstanceId, plan.FromKey, run.Limits, CancellationToken.None);
                break;
            }
            catch (SnapshotDamagedException) when (++attempt < MaxPlanAttempts)
            {
                // The damaged layer is gone: plan again, from an older layer or by replay.
            }
        }

        var connection = await runtime.StartAsync(run.InstanceId, run.Limits, CancellationToken.None);
        var outcomes = new StatementOutcome?[statements.Count];
        for (var i = 0; i < plan.From; i++)
        {
            outcomes[i] = StatementOutcome.Cached(i, keys[i + 1] != keys[i] ? recorded.GetValueOrDefault(keys[i + 1]) : null);
        }

        var toRecord = new Dictionary<ChainKey, RecordedOutcome>();
        var noOps = new List<(ChainKey, ChainKey)>();
        var layers = new List<(LayerCapture Capture, bool InScript, TimeSpan BuildTime, TimeSpan ReplaySaved)>();
        var appliedSettings = new List<SqlStatement>();
        var current = plan.FromKey;
        var lastLayer = plan.Start == RunStart.RestoreLayer ? plan.FromKey : (ChainKey?)null;
        var inTransaction = false;
        var failed = false;
        var stopped = false;
        var touchedTransactions = false;

        // The determinism rule: the state reached is the key only while it is certainly what a clean replay
        // makes. A statement that failed after it may have changed something, or one that changed the session
        // in a way no layer keeps, makes the state unknown: no layer after it, and the next run restores.
        var uncertain = false;
        var budget = new ResultBudget(run.ResultLimits);
        var session = await sessions.OpenAsync(connection, CancellationToken.None);
        await using var storage = storageGuard?.Watch(run.InstanceId, run.Limits);
        try
        {
            if (plan.From > 0)
            {
                await session.ResumeAsync(CancellationToken.None);
            }

            foreach (var index in plan.SessionStatements)
            {
                var setting = await session.ExecuteAsync(statements[index], budget, run.Limits.EffectiveStatementTimeout, CancellationToken.None);
                if (setting.Status == StatementStatus.Error)
                {
                    outcomes[index] = setting;
                    failed = true;
                    break;
                }

                appliedSettings.Add(statements[index]);
            }

            var unlistedFrom = SessionEffects.FirstUnlistedSetting(statements, run.HeadEnd);
            var codeFrom = SessionEffects.FirstCode(statements, run.HeadEnd);
            var layerPoints = new HashSet<int>(plan.Layers);
            var policy = run.Policy ?? LayerPolicy.Default;
            var scriptStart = run.ScriptStart;
            var sinceLayer = TimeSpan.Zero;
            var worked = TimeSpan.Zero;
            var captured = TimeSpan.Zero;
            var lastCapture = TimeSpan.FromTicks(Interlocked.Read(ref _lastScriptCapture));
            var total = run.HeadEnd - plan.From;
            for (var i = plan.From; i < run.HeadEnd && !failed; i++)
            {
                var statement = statements[i];
                if (cancellationToken.IsCancellationRequested)
                {
                    outcomes[i] = StatementOutcome.Stopped(statement, TimeSpan.Zero);
                    failed = stopped = true;
                    break;
                }

                progress?.Report(new RunProgress(i - plan.From + 1, total, i < plan.HeadStart ? RunPhase.Replaying : RunPhase.Running));
                if (i >= codeFrom)
                {
                    session.WatchSettings();
                }

                var outcome = await session.ExecuteAsync(statement, budget, run.Limits.EffectiveStatementTimeout, cancellationToken);
                if (outcome.Status == StatementStatus.Error && storage?.ExceededBytes is { } size)
                {
                    outcome = DatabaseFull(statement, outcome, size, run.Limits);
                }

                outcomes[i] = outcome;
                if (outcome.Status == StatementStatus.Error)
                {
                    failed = true;
                    uncertain |= outcome.ChangedState;
                    stopped = cancellationToken.IsCancellationRequested;
                    break;
                }

                // What this statement did is a fact only if the session it ran in was certain; after that, nothing is.
                var wasCertain = !uncertain;
                var touchedSession = outcome.TouchedSession || i >= unlistedFrom;
                uncertain |= touchedSession;

                touchedTransactions |= statement.Kind is StatementKind.TransactionStart or StatementKind.TransactionEnd;
                inTransaction = statement.Kind switch
                {
                    StatementKind.TransactionStart => true,
                    StatementKind.TransactionEnd => false,
                    _ => inTransaction,
                };
                var next = current.Next(statement);
                if (outcome.ChangedState || touchedSession || !wasCertain || statement.Kind != StatementKind.Other)
                {
                    current = next;
                }

                if (wasCertain && (outcome.ChangedState || touchedSession || statement.Kind != StatementKind.Other))
                {
                    toRecord.TryAdd(next, new RecordedOutcome(outcome.CommandTag, outcome.RowsAffected, [.. outcome.Notices.Take(MaxRecordedNotices)], outcome.Duration));
                }
                else if (wasCertain)
                {
                    noOps.Add((current, next));
                }

                if (statement.Kind == StatementKind.Session)
                {
                    appliedSettings.Add(statement);
                }

                // Layers go where the plan put them, where the replay turned out to cost more than estimated, and
                // inside the script being run where an edit below them would otherwise replay too much.
                var inScript = i >= scriptStart;
                if (i >= plan.HeadStart && (!inScript || i + 1 >= run.HeadEnd))
                {
                    continue;
                }

                sinceLayer += outcome.Duration;
                worked += outcome.Duration;
                // The edit point is learned, not guessed: its layer is paid back by the reruns that come there, not weighed against this run.
                var atEditPoint = i + 1 == run.EditPoint;
                var worthALayer = layerPoints.Contains(i + 1)
                    || (policy.WorthALayer(sinceLayer, atEndOfTail: i + 1 == plan.HeadStart, inScript, atEditPoint, outcome.Duration)
                        && (!inScript || atEditPoint || policy.AffordsCapture(captured, lastCapture, worked)));
                if (runtime.HasLayer(current))
                {
                    sinceLayer = TimeSpan.Zero;
                }
                else if (worthALayer && !inTransaction && !uncertain && !cancellationToken.IsCancellationRequested)
                {
                    sinceLayer = TimeSpan.Zero;
                    await using var building = gate is null ? null : await gate.EnterAsync(current, CancellationToken.None);
                    if (runtime.HasLayer(current))
                    {
                        // Another run built it while this one waited at the gate.
                        lastLayer = current;
                        continue;
                    }

                    progress?.Report(new RunProgress(i - plan.From + 1, total, RunPhase.TakingLayer, current.Short));
                    var capturing = clock.GetTimestamp();
                    var capture = await runtime.CaptureAsync(run.InstanceId, current, lastLayer, run.Limits, CancellationToken.None);
                    lastCapture = clock.GetElapsedTime(capturing);
                    if (inScript)
                    {
                        captured += lastCapture;
                        Interlocked.Exchange(ref _lastScriptCapture, lastCapture.Ticks);
                    }
                    layers.Add((capture, inScript, lastCapture, worked));
                    lastLayer = current;
                    if (!capture.SessionsKept)
                    {
                        // Capturing restarted the instance: a new session gets the settings made so far.
                        await session.DisposeAsync();
                        session = await sessions.OpenAsync(await runtime.StartAsync(run.InstanceId, run.Limits, CancellationToken.None), CancellationToken.None);
                        await session.ResumeAsync(CancellationToken.None);
                        foreach (var setting in appliedSettings)
                        {
                            await session.ExecuteAsync(setting, budget, run.Limits.EffectiveStatementTimeout, CancellationToken.None);
                        }
                    }
                }
            }

            // A transaction left open (or aborted) is rolled back: its state has no key.
            // Only BEGIN (or a COMMIT AND CHAIN) opens a block: without one, and without a failure (a lost connection), there is nothing to ask.
            var rolledBack = (touchedTransactions || failed) && await session.RollbackOpenTransactionAsync(CancellationToken.None);
            var finalState = (failed && inTransaction) || rolledBack || uncertain ? (ChainKey?)null : current;
            var result = new StatementOutcome[run.HeadEnd];
            for (var i = 0; i < run.HeadEnd; i++)
            {
                result[i] = outcomes[i] ?? StatementOutcome.Skipped(i);
            }

            if (outcomeStore is not null && toRecord.Count > 0)
            {
                await outcomeStore.RecordAsync(toRecord, CancellationToken.None);
            }

            // Layers still being stored (while the statements after them ran) are finished before the run reports them.
            var taken = new List<TakenLayer>();
            foreach (var (capture, inScript, buildTime, replaySaved) in layers)
            {
                taken.Add(new TakenLayer(await capture.Published, inScript, buildTime, replaySaved));
            }

            return new RunResult(plan, result, finalState, noOps, taken, clock.GetElapsedTime(started)) { Stopped = stopped };
        }
        finally
        {
            await session.DisposeAsync();
        }
    }

    /// <summary>The statement the storage guard cancelled: what happened, in the student's words (SQLSTATE 53100, disk_full).</summary>
    private static StatementOutcome DatabaseFull(SqlStatement statement, StatementOutcome cancelled, long size, InstanceLimits limits) => cancelled with
    {
        ChangedState = true,
        Error = new RunError("53100",
            $"Your database is full: it grew to {size / (1024 * 1024)} MB, past your plan's {limits.StorageMegabytes} MB, and this statement was stopped.",
            null, "Write less (fewer or smaller rows), or reset the instance; an admin can give your plan more storage.",
            statement.Span.File, statement.Locate(1)),
    };

    /// <summary>
    /// How the run would go if it started now (which statements would come from the cache and which would
    /// execute), without touching the instance: what the editor's gutter shows.
    /// </summary>
    public async Task<RunPlan> PlanAsync(ChainRun run, CancellationToken cancellationToken) =>
        Plan(run, await RecordedOutcomesAsync(run, cancellationToken));

    private RunPlan Plan(ChainRun run, IReadOnlyDictionary<ChainKey, RecordedOutcome> recorded)
    {
        var keys = run.Chain.Keys;
        return RunPlanner.Plan(new RunRequest(run.Chain.Statements, keys, run.HeadStart, run.HeadEnd, run.InstanceState, runtime.HasLayer,
            Cost: s => keys[s.Index + 1] != keys[s.Index] && recorded.TryGetValue(keys[s.Index + 1], out var known) && known.Duration is { } took
                ? took
                : StatementCost.Estimate(s),
            Policy: run.Policy, HasOutcome: outcomeStore is null ? null : recorded.ContainsKey));
    }

    private async Task<IReadOnlyDictionary<ChainKey, RecordedOutcome>> RecordedOutcomesAsync(ChainRun run, CancellationToken cancellationToken = default) =>
        outcomeStore is null
            ? new Dictionary<ChainKey, RecordedOutcome>()
            : await outcomeStore.FindAsync(StateChangingKeys(run.Chain.Keys, run.HeadEnd), cancellationToken);

    /// <summary>The keys reached by statements that changed the state (where the next key differs), up to <paramref name="end"/>.</summary>
    private static List<ChainKey> StateChangingKeys(IReadOnlyList<ChainKey> keys, int end)
    {
        var found = new List<ChainKey>();
        for (var i = 0; i < end; i++)
        {
            if (keys[i + 1] != keys[i])
            {
                found.Add(keys[i + 1]);
            }
        }

        return found;
    }
}
