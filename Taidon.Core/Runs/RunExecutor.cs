using Taidon.Core.Instances;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

/// <summary>A run to execute: a keyed chain, the head to run now, and the instance it runs on.</summary>
public sealed record ChainRun(
    Guid InstanceId,
    InstanceLimits Limits,
    AnalyzedChain Chain,
    int HeadStart,
    int HeadEnd,
    ChainKey? InstanceState,
    ResultLimits ResultLimits,
    LayerPolicy? Policy = null);

/// <summary>How far a run is: statement <see cref="Current"/> of <see cref="Total"/> to replay or run.</summary>
public sealed record RunProgress(int Current, int Total, string Phase);

/// <summary>
/// What a run did: its plan, an outcome per statement of the chain, the state the instance is in
/// afterwards (null when unknown), the statements seen to change nothing, and the layers taken.
/// </summary>
public sealed record RunResult(
    RunPlan Plan,
    IReadOnlyList<StatementOutcome> Outcomes,
    ChainKey? FinalState,
    IReadOnlyList<(ChainKey Before, ChainKey After)> NoOps,
    IReadOnlyList<SnapshotLayer> LayersTaken,
    TimeSpan Duration)
{
    public bool Succeeded => Outcomes.All(o => o.Status is StatementStatus.Cached or StatementStatus.Executed);
}

/// <summary>
/// Executes a run as planned: brings the instance to the starting state (at once, by restoring a layer,
/// or by continuing on it), re-applies the session settings, replays the tail taking the planned layers,
/// then runs the head. The state key moves only when a statement changed the database.
/// </summary>
public sealed class RunExecutor(IInstanceRuntime runtime, ISqlSessionFactory sessions, TimeProvider clock, ILayerBuildGate? gate = null)
{
    private const int MaxPlanAttempts = 3;

    public async Task<RunResult> RunAsync(ChainRun run, IProgress<RunProgress>? progress, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        var statements = run.Chain.Statements;
        RunPlan plan;
        var attempt = 0;
        while (true)
        {
            plan = RunPlanner.Plan(new RunRequest(statements, run.Chain.Keys, run.HeadStart, run.HeadEnd, run.InstanceState, runtime.HasLayer, Policy: run.Policy));
            if (plan.Start != RunStart.RestoreLayer)
            {
                break;
            }

            try
            {
                progress?.Report(new RunProgress(0, plan.ReplayCount, $"restoring layer {plan.FromKey.Short}"));
                await runtime.RestoreAsync(run.InstanceId, plan.FromKey, run.Limits, cancellationToken);
                break;
            }
            catch (SnapshotDamagedException) when (++attempt < MaxPlanAttempts)
            {
                // The damaged layer is gone: plan again, from an older layer or by replay.
            }
        }

        var connection = await runtime.StartAsync(run.InstanceId, run.Limits, cancellationToken);
        var outcomes = new StatementOutcome?[statements.Count];
        for (var i = 0; i < plan.From; i++)
        {
            outcomes[i] = StatementOutcome.Cached(i);
        }

        var noOps = new List<(ChainKey, ChainKey)>();
        var layers = new List<SnapshotLayer>();
        var appliedSettings = new List<SqlStatement>();
        var current = plan.FromKey;
        var lastLayer = plan.Start == RunStart.RestoreLayer ? plan.FromKey : (ChainKey?)null;
        var inTransaction = false;
        var failed = false;
        var session = await sessions.OpenAsync(connection, cancellationToken);
        try
        {
            foreach (var index in plan.SessionStatements)
            {
                var setting = await session.ExecuteAsync(statements[index], run.ResultLimits, run.Limits.EffectiveStatementTimeout, cancellationToken);
                if (setting.Status == StatementStatus.Error)
                {
                    outcomes[index] = setting;
                    failed = true;
                    break;
                }

                appliedSettings.Add(statements[index]);
            }

            var layerPoints = new HashSet<int>(plan.Layers);
            var total = run.HeadEnd - plan.From;
            for (var i = plan.From; i < run.HeadEnd && !failed; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var statement = statements[i];
                progress?.Report(new RunProgress(i - plan.From + 1, total, i < plan.HeadStart ? "replaying" : "running"));
                var outcome = await session.ExecuteAsync(statement, run.ResultLimits, run.Limits.EffectiveStatementTimeout, cancellationToken);
                outcomes[i] = outcome;
                if (outcome.Status == StatementStatus.Error)
                {
                    failed = true;
                    break;
                }

                inTransaction = statement.Kind switch
                {
                    StatementKind.TransactionStart => true,
                    StatementKind.TransactionEnd => false,
                    _ => inTransaction,
                };
                var next = current.Next(statement);
                if (outcome.ChangedState || statement.Kind != StatementKind.Other)
                {
                    current = next;
                }
                else
                {
                    noOps.Add((current, next));
                }

                if (statement.Kind == StatementKind.Session)
                {
                    appliedSettings.Add(statement);
                }

                if (layerPoints.Contains(i + 1) && !inTransaction && !runtime.HasLayer(current))
                {
                    await using var building = gate is null ? null : await gate.EnterAsync(current, cancellationToken);
                    if (runtime.HasLayer(current))
                    {
                        // Another run built it while this one waited at the gate.
                        lastLayer = current;
                        continue;
                    }

                    progress?.Report(new RunProgress(i - plan.From + 1, total, $"taking layer {current.Short}"));
                    await session.DisposeAsync();
                    layers.Add(await runtime.CaptureAsync(run.InstanceId, current, lastLayer, run.Limits, cancellationToken));
                    lastLayer = current;

                    // Capturing restarted the instance: a new session gets the settings made so far.
                    session = await sessions.OpenAsync(await runtime.StartAsync(run.InstanceId, run.Limits, cancellationToken), cancellationToken);
                    foreach (var setting in appliedSettings)
                    {
                        await session.ExecuteAsync(setting, run.ResultLimits, run.Limits.EffectiveStatementTimeout, cancellationToken);
                    }
                }
            }

            // A transaction left open (or aborted) is rolled back: its state has no key.
            var rolledBack = await session.RollbackOpenTransactionAsync(cancellationToken);
            var finalState = (failed && inTransaction) || rolledBack ? (ChainKey?)null : current;
            var result = new StatementOutcome[run.HeadEnd];
            for (var i = 0; i < run.HeadEnd; i++)
            {
                result[i] = outcomes[i] ?? StatementOutcome.Skipped(i);
            }

            return new RunResult(plan, result, finalState, noOps, layers, clock.GetElapsedTime(started));
        }
        finally
        {
            await session.DisposeAsync();
        }
    }
}
