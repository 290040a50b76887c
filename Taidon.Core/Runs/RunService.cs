using Microsoft.Extensions.Logging;
using Taidon.Core.Audit;
using Taidon.Core.Common;
using Taidon.Core.Instances;
using Taidon.Core.Quotas;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

/// <summary>The part of a run that reaches past one statement: which script is the head.</summary>
/// <param name="Start">The first statement to run now (0-based, over the whole chain); null for the default.</param>
/// <param name="End">One past the last; null for the end of the chain.</param>
/// <param name="FromFile">When <paramref name="Start"/> is null: the head starts at this file's first statement (the script being run).</param>
public sealed record HeadSelection(int? Start = null, int? End = null, string? FromFile = null)
{
    /// <summary>What the editor selected (the statements it touches are the head), resolved once the chain is analyzed.</summary>
    public EditorRange? Selected { get; init; }

    /// <summary>With <see cref="Selected"/>: run nothing, and stop in the state just before the first selected statement.</summary>
    public bool StopBefore { get; init; }

    /// <summary>
    /// Keep the state where the head starts as a layer however little its replay costs: a lesson's warm-up,
    /// whose class will all restore there (a cheap init would otherwise be replayed, not cached).
    /// </summary>
    public bool KeepStartAsLayer { get; init; }

    /// <summary>The statements a selection in the editor touches (or the one under the cursor).</summary>
    public static HeadSelection Selection(string file, SourcePosition from, SourcePosition to) => new() { Selected = new EditorRange(file, from, to) };

    /// <summary>No statement runs: the instance is brought to the state just before the statement at the cursor.</summary>
    public static HeadSelection Before(string file, SourcePosition at) => new() { Selected = new EditorRange(file, at, at), StopBefore = true };
}

/// <summary>A selection in the editor (from and to may come in either order).</summary>
public sealed record EditorRange(string File, SourcePosition From, SourcePosition To);

/// <summary>A selection or cursor that touches no statement of the script.</summary>
public sealed class NoStatementSelectedException(string message) : ArgumentException(message);

/// <summary>
/// Instances of an account and runs on them: keeps the control plane's records (state key, activity,
/// layers, statements seen to change nothing) in step with what the runtime and the runner did.
/// </summary>
public sealed class RunService(
    IInstanceStore instances,
    IRunJournal journal,
    IInstanceRuntime runtime,
    IInstanceGate gates,
    IRunAdmission admission,
    DiskReserve disk,
    RunExecutor executor,
    ScriptEdits edits,
    IEngineIdentitySource engine,
    WarmPool pool,
    ISchemaReader schemas,
    IQueryTimer timer,
    InstanceOptions options,
    QuotaService quotas,
    IAuditLog audit,
    TaidonTelemetry telemetry,
    TimeProvider clock,
    ILogger<RunService> logger)
{
    private int _creating;

    /// <summary>Runs of each account since its history was last trimmed (in this process).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _sinceTrim = new();

    // Each account's last previewed chain, as split and keyed before no-ops are seen through: the editor
    // previews on every pause in typing, and the next preview splits again only around the edit. At most
    // MaxPreviewsKept accounts' (a class's worth): past it the memory starts again, and a preview splits afresh.
    private const int MaxPreviewsKept = 2_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AnalyzedChain> _lastPreview = new();

    /// <summary>
    /// Instances whose last run changed them but could not be recorded (the control plane did not answer):
    /// their recorded state is behind their real one, so until a run of theirs is recorded it is not
    /// trusted and the next run restores. (Per process: where replicas share instances, a run on another
    /// replica could still trust it.)
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, byte> _unrecorded = new();

    /// <summary>The instance settings by default (the warm pool's instances, owned by nobody yet).</summary>
    public InstanceLimits Limits => options.ToLimits();

    private Task<(Quota Quota, InstanceLimits Limits)> QuotaOfAsync(string ownerId, CancellationToken cancellationToken) => quotas.LimitsOfAsync(ownerId, cancellationToken);

    /// <summary>The account's instances, oldest first.</summary>
    public Task<IReadOnlyList<Instance>> ListAsync(string ownerId, CancellationToken cancellationToken) => instances.OfOwnerAsync(ownerId, cancellationToken);

    /// <summary>Creates an instance for the account, in a turn of the installation like a run (a class's first minute is a storm of them).</summary>
    public async Task<Instance> CreateAsync(string ownerId, CancellationToken cancellationToken)
    {
        disk.EnsureRoom();
        await using var turn = await admission.EnterAsync(null, cancellationToken);
        return await CreateInTurnAsync(ownerId, cancellationToken);
    }

    private async Task<Instance> CreateInTurnAsync(string ownerId, CancellationToken cancellationToken)
    {
        var count = await instances.CountAsync(ownerId, cancellationToken);
        var (quota, limits) = await QuotaOfAsync(ownerId, cancellationToken);
        if (count >= quota.InstancesPerAccount)
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.InstanceCreate, ownerId, null, AuditOutcome.Refused, $"instances per account: {quota.InstancesPerAccount}"), cancellationToken);
            throw new QuotaExceededException("instances per account", quota.InstancesPerAccount == 0
                ? "Your plan allows no instances; ask an admin of this installation for a plan that does."
                : $"Your account may have {quota.InstancesPerAccount} instances and has {count}; delete one before creating another.");
        }

        var now = clock.GetUtcNow();
        var expires = now.AddHours(quota.LifetimeHours);
        var started = clock.GetTimestamp();
        if (await pool.ClaimAsync(ownerId, now, expires, cancellationToken) is { } pooled)
        {
            telemetry.InstanceStartDuration.Record(clock.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("source", "pool"));
            logger.LogInformation("Handed pooled instance {InstanceId} to account {AccountId}", pooled.Id, ownerId);
            await audit.RecordAsync(new AuditEvent(AuditActions.InstanceCreate, ownerId, Target(pooled.Id), AuditOutcome.Succeeded, "from the warm pool"), cancellationToken);
            return pooled;
        }

        var record = Instance.New(ownerId, InstanceState.Running, engine.Identity.Root, now, expires - now);
        // Instances being created right now (seconds each) are not in the database yet: they count too,
        // or a burst of new visitors would all pass the check before the first one is saved.
        var creating = Interlocked.Increment(ref _creating);
        try
        {
            var total = await instances.CountAsync(null, cancellationToken) + creating - 1;
            if (total >= options.MaxTotal)
            {
                logger.LogWarning("Refused a new instance for account {AccountId}: the installation has {Total} instances, Taidon:Instances:MaxTotal is {MaxTotal}", ownerId, total, options.MaxTotal);
                await audit.RecordAsync(new AuditEvent(AuditActions.InstanceCreate, ownerId, null, AuditOutcome.Refused, $"instances in this installation: {options.MaxTotal} (Taidon:Instances:MaxTotal)"), cancellationToken);
                throw new InstallationAtCapacityException("instances in this installation", InstallationFullMessage, TimeSpan.FromMinutes(5));
            }

            await runtime.CreateAsync(record.Id, limits, cancellationToken);
            telemetry.InstanceStartDuration.Record(clock.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("source", "created"));
            await instances.AddAsync(record, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _creating);
        }

        logger.LogInformation("Created instance {InstanceId} for account {AccountId}", record.Id, ownerId);
        await audit.RecordAsync(new AuditEvent(AuditActions.InstanceCreate, ownerId, Target(record.Id), AuditOutcome.Succeeded), cancellationToken);
        return record;
    }

    public const string InstallationFullMessage =
        "This installation is at capacity: it runs as many databases as it may. Try again later; if it keeps happening, tell an admin (the limit is Taidon:Instances:MaxTotal).";

    /// <summary>The account's first instance, created on demand (the caller holds a turn).</summary>
    private async Task<Instance> DefaultInstanceAsync(string ownerId, CancellationToken cancellationToken)
    {
        var existing = (await ListAsync(ownerId, cancellationToken)).FirstOrDefault();
        return existing ?? await CreateInTurnAsync(ownerId, cancellationToken);
    }

    public async Task DeleteAsync(string ownerId, Guid instanceId, CancellationToken cancellationToken)
    {
        _ = await OwnedAsync(ownerId, instanceId, cancellationToken);
        await runtime.DeleteAsync(instanceId, cancellationToken);
        await instances.RemoveAsync(instanceId, cancellationToken);
        await audit.RecordAsync(new AuditEvent(AuditActions.InstanceDelete, ownerId, Target(instanceId), AuditOutcome.Succeeded), cancellationToken);
    }

    private static string Target(Guid instanceId) => Instance.AuditTarget(instanceId);

    /// <summary>One of the account's instances (another account's does not exist for it).</summary>
    private async Task<Instance> OwnedAsync(string ownerId, Guid instanceId, CancellationToken cancellationToken) =>
        await instances.FindAsync(instanceId, cancellationToken) is { } found && found.OwnerId == ownerId ? found : throw new InstanceNotFoundException(instanceId);

    /// <summary>Puts the instance back into the base state (an empty working database).</summary>
    public Task<Instance> ResetAsync(string ownerId, Guid instanceId, CancellationToken cancellationToken) =>
        ChangeAsync(ownerId, instanceId, AuditActions.InstanceReset, async (record, limits) =>
        {
            await runtime.RestoreAsync(instanceId, engine.Identity.Root, limits, cancellationToken);
            record.StateKey = engine.Identity.Root.ToString();
        }, cancellationToken);

    /// <summary>Restarts the instance's PostgreSQL (new limits apply); its data and state key stay.</summary>
    public Task<Instance> RestartAsync(string ownerId, Guid instanceId, CancellationToken cancellationToken) =>
        ChangeAsync(ownerId, instanceId, AuditActions.InstanceRestart, async (_, limits) =>
        {
            await runtime.StopAsync(instanceId, cancellationToken);
            await runtime.StartAsync(instanceId, limits, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Times a query <paramref name="repetitions"/> times with EXPLAIN (ANALYZE, FORMAT JSON), as the
    /// student, each time in a read-only transaction that is rolled back, so the state stays as it was
    /// (a query that would change anything, even a sequence, fails instead). Returns the plans in JSON.
    /// </summary>
    public async Task<IReadOnlyList<string>> ExplainAsync(string ownerId, Guid instanceId, SqlStatement statement, int repetitions, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        if (!QueryPlans.IsExplainable(statement))
        {
            throw new ArgumentException($"Only queries can be benchmarked; line {statement.Span.Start.Line} is not one.", nameof(statement));
        }

        IReadOnlyList<string> plans = [];
        await ChangeAsync(ownerId, instanceId, null, async (_, limits) =>
        {
            var connection = await runtime.StartAsync(instanceId, limits, cancellationToken);
            var timeout = TimeSpan.FromSeconds(Math.Ceiling(limits.EffectiveStatementTimeout.TotalSeconds) + 1);
            plans = await timer.ExplainAsync(connection, statement.Text.TrimEnd().TrimEnd(';'), repetitions, timeout, progress, cancellationToken);
        }, cancellationToken);
        return plans;
    }

    /// <summary>Changes one of the account's instances alone (no run meanwhile), rebuilding it first if it failed.</summary>
    private async Task<Instance> ChangeAsync(string ownerId, Guid instanceId, string? auditAction, Func<Instance, InstanceLimits, Task> change, CancellationToken cancellationToken)
    {
        await using var held = await gates.EnterAsync(instanceId, cancellationToken);
        var record = await OwnedAsync(ownerId, instanceId, cancellationToken);
        var (_, limits) = await QuotaOfAsync(ownerId, cancellationToken);
        await RebuildIfFailedAsync(record, limits, cancellationToken);
        await change(record, limits);
        record.Ran(record.KnownState, clock.GetUtcNow());
        await instances.UpdateAsync(record, cancellationToken);
        if (auditAction is not null)
        {
            await audit.RecordAsync(new AuditEvent(auditAction, ownerId, Target(instanceId), AuditOutcome.Succeeded, "state " + record.StateKey), cancellationToken);
        }

        return record;
    }

    /// <summary>A failed instance's data is gone: it comes back as a new instance in the base state, under the same id.</summary>
    private async Task RebuildIfFailedAsync(Instance record, InstanceLimits limits, CancellationToken cancellationToken)
    {
        if (!record.NeedsRebuild)
        {
            return;
        }

        await runtime.DeleteAsync(record.Id, cancellationToken);
        await runtime.CreateAsync(record.Id, limits, cancellationToken);
        record.StateKey = engine.Identity.Root.ToString();
        logger.LogInformation("Rebuilt instance {InstanceId}", record.Id);
    }

    /// <summary>The schema of the account's instance as it stands (its default instance when <paramref name="instanceId"/> is null); null when it has none yet.</summary>
    public async Task<DatabaseSchema?> DescribeAsync(string ownerId, Guid? instanceId, CancellationToken cancellationToken)
    {
        var instances = await ListAsync(ownerId, cancellationToken);
        var instance = instanceId is { } id ? instances.SingleOrDefault(i => i.Id == id) ?? throw new InstanceNotFoundException(id) : instances.FirstOrDefault();
        if (instance is null || instance.State != InstanceState.Running)
        {
            // A stopped instance is not started just to be looked at: it starts with the next run.
            return null;
        }

        await using var held = await gates.EnterAsync(instance.Id, cancellationToken);
        var (_, limits) = await QuotaOfAsync(ownerId, cancellationToken);
        return await schemas.ReadAsync(await runtime.StartAsync(instance.Id, limits, cancellationToken), cancellationToken);
    }

    /// <summary>Runs a chain on one of the account's instances (its default one when <paramref name="instanceId"/> is null).</summary>
    public Task<(Instance Instance, AnalyzedChain Chain, RunResult Result)> RunAsync(
        string ownerId, Guid? instanceId, IReadOnlyList<SqlSource> sources, HeadSelection head, IProgress<RunProgress>? progress, CancellationToken cancellationToken) =>
        RunAsync(ownerId, instanceId, sources, null, head, progress, cancellationToken);

    /// <summary>Runs again a chain analyzed by an earlier run of the same sources (a benchmark's steps): it is not split and keyed again.</summary>
    public Task<(Instance Instance, AnalyzedChain Chain, RunResult Result)> RunAgainAsync(
        string ownerId, Guid instanceId, IReadOnlyList<SqlSource> sources, AnalyzedChain chain, HeadSelection head, CancellationToken cancellationToken) =>
        RunAsync(ownerId, instanceId, sources, chain, head, null, cancellationToken);

    private async Task<(Instance Instance, AnalyzedChain Chain, RunResult Result)> RunAsync(
        string ownerId, Guid? instanceId, IReadOnlyList<SqlSource> sources, AnalyzedChain? analyzed, HeadSelection head, IProgress<RunProgress>? progress, CancellationToken cancellationToken)
    {
        // A turn of the installation's first (a bounded number run at once, a new student's first instance
        // made inside it; the rest wait, their place shown), then the instance's.
        disk.EnsureRoom();
        var queued = clock.GetTimestamp();
        await using var turn = await admission.EnterAsync(place => progress?.Report(new RunProgress(place, 0, RunPhase.Queued)), cancellationToken);
        telemetry.RunQueueDuration.Record(clock.GetElapsedTime(queued).TotalSeconds);
        var instance = instanceId is { } id
            ? (await ListAsync(ownerId, cancellationToken)).SingleOrDefault(i => i.Id == id) ?? throw new InstanceNotFoundException(id)
            : await DefaultInstanceAsync(ownerId, cancellationToken);
        await using var held = await gates.EnterAsync(instance.Id, cancellationToken);
        var record = await instances.FindAsync(instance.Id, cancellationToken) ?? throw new InstanceNotFoundException(instance.Id);
        var (quota, limits) = await QuotaOfAsync(ownerId, cancellationToken);
        await RebuildIfFailedAsync(record, limits, cancellationToken);

        var chain = analyzed ?? await AnalyzeAsync(sources, "run", cancellationToken);
        if (!chain.IsValid)
        {
            throw new ArgumentException("The script cannot be split: " + chain.Problems[0], nameof(sources));
        }

        if (_unrecorded.ContainsKey(record.Id))
        {
            record.Ran(null, clock.GetUtcNow());
        }

        var run = Prepare(record, quota, limits, chain, head);
        if (run.HeadEnd > run.HeadStart)
        {
            run = run with { EditPoint = edits.Learn(ownerId, chain.Statements[run.HeadEnd - 1].Span.File, chain.Keys) };
        }

        if (head.KeepStartAsLayer && run.HeadStart > 0)
        {
            run = run with { EditPoint = run.HeadStart, Policy = (run.Policy ?? LayerPolicy.Default) with { EditPointCost = TimeSpan.Zero } };
        }

        if (run.HeadEnd > run.HeadStart && !quotas.TryStartRun(ownerId, quota.RunsPerMinute))
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.Run, ownerId, Target(record.Id), AuditOutcome.Refused, $"runs per minute: {quota.RunsPerMinute}"), cancellationToken);
            throw new QuotaExceededException("runs per minute", $"Your plan allows {quota.RunsPerMinute} runs a minute and this minute's are used; wait a moment and run again.");
        }

        var startKey = record.StateKey;
        RunResult result;
        DateTimeOffset now;
        try
        {
            result = await executor.RunAsync(run, progress, cancellationToken);
            Measure(result);

            // What the run did is recorded even when it was stopped. A reset to a statement runs no head: it is not a run of the student's.
            now = clock.GetUtcNow();
            record.Ran(result.FinalState, now);
            await journal.RecordAsync(Recorded(record, result, run.HeadEnd > run.HeadStart ? HistoryEntry(ownerId, chain, result, head, sources, now) : null, TrimNow(ownerId), now), CancellationToken.None);
            _unrecorded.TryRemove(record.Id, out _);
        }
        catch
        {
            // The run failed past its first statement (the control plane timed out as the run or its outcomes
            // were written, the connection broke): whatever it did to the instance, the control plane still
            // names the state before it.
            _unrecorded.TryAdd(record.Id, 0);
            throw;
        }

        if (run.HeadEnd > run.HeadStart)
        {
            var outcome = result.Stopped ? "stopped" : result.Succeeded ? "succeeded" : "failed";
            await audit.RecordAsync(new AuditEvent(AuditActions.Run, ownerId, Target(record.Id), result.Succeeded ? AuditOutcome.Succeeded : AuditOutcome.Failed,
                $"{outcome}; {result.Plan.Describe()}; {startKey?[..12]} -> {record.StateKey?[..12]}; {result.Duration.TotalMilliseconds:0} ms"), CancellationToken.None);
        }

        return (record, chain, result);
    }

    /// <summary>
    /// How a run of the chain would go now on the account's default instance (nothing runs and no instance
    /// is created): which statements would come from the cache and which would execute. Null when the
    /// chain cannot be split.
    /// </summary>
    public async Task<(AnalyzedChain Chain, RunPlan Plan)?> PreviewAsync(string ownerId, IReadOnlyList<SqlSource> sources, HeadSelection head, CancellationToken cancellationToken)
    {
        var record = (await ListAsync(ownerId, cancellationToken)).FirstOrDefault();
        var chain = await AnalyzeAsync(sources, "preview", cancellationToken, previewOf: ownerId);
        if (!chain.IsValid)
        {
            return null;
        }

        // Planning reads no limits: the settings' defaults spare the quota lookups on every save.
        var run = Prepare(record, quotas.Defaults(QuotaPlans.Registered), Limits, chain, head);
        return (chain, await executor.PlanAsync(run, cancellationToken));
    }

    /// <summary>The run of a keyed chain's head on an instance (none yet: its state is unknown, so nothing is trusted).</summary>
    private static ChainRun Prepare(Instance? record, Quota quota, InstanceLimits limits, AnalyzedChain chain, HeadSelection head)
    {
        var (start, end) = HeadOf(chain, head);
        return new ChainRun(record?.Id ?? Guid.Empty, limits, chain, start, end, record?.KnownState, quota.ResultLimits);
    }

    /// <summary>Where the head starts and ends over the whole chain (start inclusive, end exclusive).</summary>
    private static (int Start, int End) HeadOf(AnalyzedChain chain, HeadSelection head)
    {
        if (head.Selected is { } selected)
        {
            var found = SelectionHead.Find(chain.Statements, selected.File, selected.From, selected.To)
                ?? throw new NoStatementSelectedException(head.StopBefore
                    ? "Put the cursor on a statement of the script to reset to the state before it."
                    : "There is no statement at the cursor: put it on a statement, or select the statements to run.");
            return head.StopBefore ? (found.Start, found.Start) : found;
        }

        var fromFile = head.FromFile is null ? 0 : chain.Statements.Count(s => s.Span.File != head.FromFile);
        var start = Math.Clamp(head.Start ?? fromFile, 0, chain.Statements.Count);
        return (start, Math.Clamp(head.End ?? chain.Statements.Count, start, chain.Statements.Count));
    }

    /// <summary>The account's latest runs, newest first.</summary>
    public Task<IReadOnlyList<RunHistoryEntry>> HistoryAsync(string ownerId, int take, CancellationToken cancellationToken) =>
        journal.HistoryAsync(ownerId, Math.Clamp(take, 1, MaxHistory), cancellationToken);

    /// <summary>How many runs an account's history keeps.</summary>
    public const int MaxHistory = 200;

    /// <summary>The longest head text a history entry keeps (a longer one is cut, saying so).</summary>
    public const int MaxHistoryText = 100_000;

    private RunHistoryEntry HistoryEntry(string ownerId, AnalyzedChain chain, RunResult result, HeadSelection head, IReadOnlyList<SqlSource> sources, DateTimeOffset now)
    {
        var plan = result.Plan;
        var headStatements = chain.Statements.Skip(plan.HeadStart).Take(plan.HeadEnd - plan.HeadStart).ToList();
        var path = head.FromFile ?? head.Selected?.File ?? headStatements.FirstOrDefault()?.Span.File ?? sources.LastOrDefault()?.Path ?? "";
        var text = head.FromFile is { } file && head.Start is null && head.End is null
            ? sources.FirstOrDefault(s => s.Path == file)?.Text ?? ""
            : string.Join("\n", headStatements.Select(s => s.Text));
        var error = result.Outcomes.Select(o => o.Error).FirstOrDefault(e => e is not null);
        return new RunHistoryEntry
        {
            Id = Guid.CreateVersion7(now),
            OwnerId = ownerId,
            ScriptPath = path.Length > 512 ? path[..512] : path,
            Text = text.Length > MaxHistoryText ? text[..MaxHistoryText] + "\n-- (cut: the history keeps the first 100,000 characters)" : text,
            WholeScript = head.FromFile is not null && head.Start is null && head.End is null,
            StartedAt = now - result.Duration,
            DurationMilliseconds = (long)result.Duration.TotalMilliseconds,
            Outcome = result.Stopped ? "stopped" : result.Succeeded ? "succeeded" : "failed",
            Start = (RunStartKind)(int)plan.Start,
            FromKey = plan.From == 0 ? null : plan.FromKey.ToString(),
            Replayed = plan.ReplayCount,
            HeadStatements = headStatements.Count,
            Error = error is null ? null : Cut($"{error.SqlState}: {error.Message}", 2000),
        };
    }

    private static string Cut(string text, int length) => text.Length > length ? text[..length] : text;

    private void Measure(RunResult result)
    {
        var plan = result.Plan.Start switch
        {
            RunStart.Hot => "hot",
            RunStart.ContinueOnInstance => "continue",
            _ => "restore",
        };
        var outcome = result.Stopped ? "stopped" : result.Succeeded ? "succeeded" : "failed";
        telemetry.Runs.Add(1, new KeyValuePair<string, object?>("plan", plan), new KeyValuePair<string, object?>("outcome", outcome));
        if (result.Plan.HeadStart > 0)
        {
            telemetry.CacheLookups.Add(1, new KeyValuePair<string, object?>("result", result.Plan.From > 0 ? "hit" : "miss"));
        }

        telemetry.RunDuration.Record(result.Duration.TotalSeconds, new KeyValuePair<string, object?>("plan", plan));
        telemetry.HeadDuration.Record(result.HeadDuration.TotalSeconds, new KeyValuePair<string, object?>("plan", plan));
        foreach (var layer in result.LayersTaken)
        {
            telemetry.LayerBuildDuration.Record(layer.BuildTime.TotalSeconds, new KeyValuePair<string, object?>("place", layer.InScript ? "script" : "course"));
        }

        telemetry.ReplayedStatements.Add(result.Plan.ReplayCount);
        telemetry.LayersTaken.Add(result.LayersTaken.Count);
    }

    /// <summary>
    /// Splits the chain once and keys it, seeing through the statements already known to change nothing
    /// (keyed again, not split again, until no new one turns up); a preview splits again from the account's
    /// last one (<see cref="ChainAnalysis.Reanalyze"/>). Counted: one per run and per preview.
    /// </summary>
    private async Task<AnalyzedChain> AnalyzeAsync(IReadOnlyList<SqlSource> sources, string purpose, CancellationToken cancellationToken, string? previewOf = null)
    {
        telemetry.ChainAnalyses.Add(1, new KeyValuePair<string, object?>("purpose", purpose));
        var known = new HashSet<(ChainKey, ChainKey)>();
        var chain = previewOf is not null && _lastPreview.TryGetValue(previewOf, out var previous)
            ? ChainAnalysis.Reanalyze(previous, sources, engine.Identity)
            : ChainAnalysis.Analyze(sources, engine.Identity);
        if (previewOf is not null)
        {
            if (_lastPreview.Count >= MaxPreviewsKept)
            {
                _lastPreview.Clear();
            }

            _lastPreview[previewOf] = chain;
        }

        for (var round = 0; round < 8 && chain.IsValid; round++)
        {
            var found = await journal.NoOpsFromAsync([.. chain.Keys.Distinct()], cancellationToken);
            if (found.Count(known.Add) == 0)
            {
                break;
            }

            chain = ChainAnalysis.Rekey(chain, engine.Identity, (before, after) => known.Contains((before, after)));
        }

        return chain;
    }

    /// <summary>
    /// Whether this run trims the account's history: its first in this process, then every tenth (a
    /// query a run saved; the history holds at most <see cref="MaxHistory"/> plus nine between trims,
    /// and shows <see cref="MaxHistory"/>).
    /// </summary>
    private int? TrimNow(string ownerId) => _sinceTrim.AddOrUpdate(ownerId, 0, (_, n) => (n + 1) % TrimEvery) == 0 ? MaxHistory : null;

    private const int TrimEvery = 10;

    /// <summary>What the run leaves in the control plane: a layer's build cost is the replay it saves.</summary>
    private static RunRecord Recorded(Instance instance, RunResult result, RunHistoryEntry? history, int? trimTo, DateTimeOffset now) => new(
        instance,
        [.. result.LayersTaken.Select(taken => new LayerUse
        {
            Key = taken.Layer.Key.ToString(),
            ParentKey = taken.Layer.Parent?.ToString(),
            SizeBytes = taken.Layer.SizeBytes,
            BuildCostMilliseconds = (long)taken.ReplaySaved.TotalMilliseconds,
            OwnerId = taken.InScript ? instance.OwnerId : null,
            CreatedAt = now,
            LastUsedAt = now,
        })],
        result.Plan.Start == RunStart.RestoreLayer ? result.Plan.FromKey : null,
        [.. result.NoOps.Distinct()],
        history,
        trimTo,
        now);
}
