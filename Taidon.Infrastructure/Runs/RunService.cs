using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Taidon.Core.Audit;
using Taidon.Core.Common;
using Taidon.Core.Instances;
using Taidon.Core.Quotas;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Persistence.Records;
using Taidon.Infrastructure.Quotas;
using Taidon.Infrastructure.Sql;

namespace Taidon.Infrastructure.Runs;

/// <summary>The part of a run that reaches past one statement: which script is the head.</summary>
/// <param name="Start">The first statement to run now (0-based, over the whole chain); null for the default.</param>
/// <param name="End">One past the last; null for the end of the chain.</param>
/// <param name="FromFile">When <paramref name="Start"/> is null: the head starts at this file's first statement (the script being run).</param>
public sealed record HeadSelection(int? Start = null, int? End = null, string? FromFile = null);

/// <summary>
/// Instances of an account and runs on them: keeps the control plane's records (state key, activity,
/// layers, statements seen to change nothing) in step with what the runtime and the runner did.
/// </summary>
public sealed class RunService(
    IDbContextFactory<ControlPlaneDbContext> contexts,
    IInstanceRuntime runtime,
    IInstanceGate gates,
    RunExecutor executor,
    EngineIdentityProvider engine,
    WarmPool pool,
    ISchemaReader schemas,
    IOptions<InstanceOptions> options,
    QuotaService quotas,
    IAuditLog audit,
    TaidonTelemetry telemetry,
    TimeProvider clock,
    ILogger<RunService> logger)
{
    private int _creating;

    /// <summary>The instance settings by default (the warm pool's instances, owned by nobody yet).</summary>
    public InstanceLimits Limits => options.Value.ToLimits();

    /// <summary>The account's quota and the instance settings it gives.</summary>
    private async Task<(Quota Quota, InstanceLimits Limits)> QuotaOfAsync(string ownerId, CancellationToken cancellationToken)
    {
        var quota = (await quotas.ForAccountAsync(ownerId, cancellationToken)).Effective;
        return (quota, QuotaService.InstanceLimitsOf(quota, options.Value.MaxConnections, ownerId));
    }

    public async Task<IReadOnlyList<InstanceRecord>> ListAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Instances.AsNoTracking().Where(i => i.OwnerId == ownerId).OrderBy(i => i.CreatedAt).ToListAsync(cancellationToken);
    }

    public async Task<InstanceRecord> CreateAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var count = await db.Instances.CountAsync(i => i.OwnerId == ownerId, cancellationToken);
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
        if (await pool.ClaimAsync(db, ownerId, now, expires, cancellationToken) is { } pooled)
        {
            telemetry.InstanceStartDuration.Record(clock.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("source", "pool"));
            logger.LogInformation("Handed pooled instance {InstanceId} to account {AccountId}", pooled.Id, ownerId);
            await audit.RecordAsync(new AuditEvent(AuditActions.InstanceCreate, ownerId, Target(pooled.Id), AuditOutcome.Succeeded, "from the warm pool"), cancellationToken);
            return pooled;
        }

        var record = new InstanceRecord
        {
            Id = Guid.CreateVersion7(now),
            OwnerId = ownerId,
            State = InstanceState.Running,
            StateKey = engine.Identity.Root.ToString(),
            CreatedAt = now,
            LastActivityAt = now,
            ExpiresAt = expires,
        };
        // Instances being created right now (seconds each) are not in the database yet: they count too,
        // or a burst of new visitors would all pass the check before the first one is saved.
        var creating = Interlocked.Increment(ref _creating);
        try
        {
            var total = await db.Instances.CountAsync(cancellationToken) + creating - 1;
            if (total >= options.Value.MaxTotal)
            {
                logger.LogWarning("Refused a new instance for account {AccountId}: the installation has {Total} instances, Taidon:Instances:MaxTotal is {MaxTotal}", ownerId, total, options.Value.MaxTotal);
                await audit.RecordAsync(new AuditEvent(AuditActions.InstanceCreate, ownerId, null, AuditOutcome.Refused, $"instances in this installation: {options.Value.MaxTotal} (Taidon:Instances:MaxTotal)"), cancellationToken);
                throw new InstallationAtCapacityException("instances in this installation", InstallationFullMessage, TimeSpan.FromMinutes(5));
            }

            await runtime.CreateAsync(record.Id, limits, cancellationToken);
            telemetry.InstanceStartDuration.Record(clock.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("source", "created"));
            db.Instances.Add(record);
            await db.SaveChangesAsync(cancellationToken);
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

    /// <summary>The account's first instance, created on demand.</summary>
    public async Task<InstanceRecord> DefaultInstanceAsync(string ownerId, CancellationToken cancellationToken)
    {
        var existing = (await ListAsync(ownerId, cancellationToken)).FirstOrDefault();
        return existing ?? await CreateAsync(ownerId, cancellationToken);
    }

    public async Task DeleteAsync(string ownerId, Guid instanceId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.Instances.SingleOrDefaultAsync(i => i.Id == instanceId && i.OwnerId == ownerId, cancellationToken)
            ?? throw new InstanceNotFoundException(instanceId);
        await runtime.DeleteAsync(instanceId, cancellationToken);
        db.Instances.Remove(record);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(new AuditEvent(AuditActions.InstanceDelete, ownerId, Target(instanceId), AuditOutcome.Succeeded), cancellationToken);
    }

    /// <summary>How audit rows name an instance.</summary>
    public static string Target(Guid instanceId) => "instance:" + instanceId;

    /// <summary>Puts the instance back into the base state (an empty working database).</summary>
    public Task<InstanceRecord> ResetAsync(string ownerId, Guid instanceId, CancellationToken cancellationToken) =>
        ChangeAsync(ownerId, instanceId, AuditActions.InstanceReset, async (record, limits) =>
        {
            await runtime.RestoreAsync(instanceId, engine.Identity.Root, limits, cancellationToken);
            record.StateKey = engine.Identity.Root.ToString();
        }, cancellationToken);

    /// <summary>Restarts the instance's PostgreSQL (new limits apply); its data and state key stay.</summary>
    public Task<InstanceRecord> RestartAsync(string ownerId, Guid instanceId, CancellationToken cancellationToken) =>
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

        var plans = new List<string>();
        await ChangeAsync(ownerId, instanceId, null, async (_, limits) =>
        {
            var connection = await runtime.StartAsync(instanceId, limits, cancellationToken);
            await using var npgsql = new NpgsqlConnection(NpgsqlSqlSessionFactory.ConnectionString(connection, "taidon-benchmark"));
            await npgsql.OpenAsync(cancellationToken);
            var timeout = (int)Math.Ceiling(limits.EffectiveStatementTimeout.TotalSeconds) + 1;
            var query = statement.Text.TrimEnd().TrimEnd(';');
            for (var i = 0; i < repetitions; i++)
            {
                progress?.Report(i + 1);
                await using (var begin = new NpgsqlCommand("BEGIN READ ONLY", npgsql))
                {
                    await begin.ExecuteNonQueryAsync(cancellationToken);
                }

                try
                {
                    await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + query, npgsql) { CommandTimeout = timeout };
                    plans.Add((string)(await explain.ExecuteScalarAsync(cancellationToken))!);
                }
                finally
                {
                    await using var rollback = new NpgsqlCommand("ROLLBACK", npgsql);
                    await rollback.ExecuteNonQueryAsync(CancellationToken.None);
                }
            }
        }, cancellationToken);
        return plans;
    }

    /// <summary>Changes one of the account's instances alone (no run meanwhile), rebuilding it first if it failed.</summary>
    private async Task<InstanceRecord> ChangeAsync(string ownerId, Guid instanceId, string? auditAction, Func<InstanceRecord, InstanceLimits, Task> change, CancellationToken cancellationToken)
    {
        await using var held = await gates.EnterAsync(instanceId, cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.Instances.SingleOrDefaultAsync(i => i.Id == instanceId && i.OwnerId == ownerId, cancellationToken)
            ?? throw new InstanceNotFoundException(instanceId);
        var (_, limits) = await QuotaOfAsync(ownerId, cancellationToken);
        await RebuildIfFailedAsync(record, limits, cancellationToken);
        await change(record, limits);
        record.State = InstanceState.Running;
        record.LastActivityAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        if (auditAction is not null)
        {
            await audit.RecordAsync(new AuditEvent(auditAction, ownerId, Target(instanceId), AuditOutcome.Succeeded, "state " + record.StateKey), cancellationToken);
        }

        return record;
    }

    /// <summary>A failed instance's data is gone: it comes back as a new instance in the base state, under the same id.</summary>
    private async Task RebuildIfFailedAsync(InstanceRecord record, InstanceLimits limits, CancellationToken cancellationToken)
    {
        if (record.State != InstanceState.Failed)
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
    public async Task<(InstanceRecord Instance, AnalyzedChain Chain, RunResult Result)> RunAsync(
        string ownerId, Guid? instanceId, IReadOnlyList<SqlSource> sources, HeadSelection head, IProgress<RunProgress>? progress, CancellationToken cancellationToken)
    {
        var instance = instanceId is { } id
            ? (await ListAsync(ownerId, cancellationToken)).SingleOrDefault(i => i.Id == id) ?? throw new InstanceNotFoundException(id)
            : await DefaultInstanceAsync(ownerId, cancellationToken);

        await using var held = await gates.EnterAsync(instance.Id, cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.Instances.SingleAsync(i => i.Id == instance.Id, cancellationToken);
        var (quota, limits) = await QuotaOfAsync(ownerId, cancellationToken);
        await RebuildIfFailedAsync(record, limits, cancellationToken);

        var (chain, run) = await PrepareAsync(db, record, quota, limits, sources, head, cancellationToken);
        if (run.HeadEnd > run.HeadStart && !quotas.TryStartRun(ownerId, quota.RunsPerMinute))
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.Run, ownerId, Target(record.Id), AuditOutcome.Refused, $"runs per minute: {quota.RunsPerMinute}"), cancellationToken);
            throw new QuotaExceededException("runs per minute", $"Your plan allows {quota.RunsPerMinute} runs a minute and this minute's are used; wait a moment and run again.");
        }

        var startKey = record.StateKey;
        var result = await executor.RunAsync(run, progress, cancellationToken);
        Measure(result);

        // What the run did is recorded even when it was stopped.
        var now = clock.GetUtcNow();
        record.StateKey = result.FinalState?.ToString();
        record.State = InstanceState.Running;
        record.LastActivityAt = now;
        await RecordAsync(db, result, now, CancellationToken.None);
        if (run.HeadEnd > run.HeadStart)
        {
            // A reset to a statement runs no head: it is not a run of the student's.
            db.RunHistory.Add(HistoryEntry(ownerId, chain, result, head, sources, now));
        }

        await db.SaveChangesAsync(CancellationToken.None);
        await ForgetOldRunsAsync(db, ownerId);
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
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var chain = await AnalyzeAsync(db, sources, cancellationToken);
        if (!chain.IsValid)
        {
            return null;
        }

        // Planning reads no limits: the settings' defaults spare the quota lookups on every save.
        var run = Prepare(record, quotas.Defaults(QuotaPlans.Registered), Limits, chain, head);
        return (chain, await executor.PlanAsync(run, cancellationToken));
    }

    private async Task<(AnalyzedChain Chain, ChainRun Run)> PrepareAsync(
        ControlPlaneDbContext db, InstanceRecord record, Quota quota, InstanceLimits limits, IReadOnlyList<SqlSource> sources, HeadSelection head, CancellationToken cancellationToken)
    {
        var chain = await AnalyzeAsync(db, sources, cancellationToken);
        if (!chain.IsValid)
        {
            throw new ArgumentException("The script cannot be split: " + chain.Problems[0], nameof(sources));
        }

        return (chain, Prepare(record, quota, limits, chain, head));
    }

    /// <summary>The run of a keyed chain's head on an instance (none yet: its state is unknown, so nothing is trusted).</summary>
    private static ChainRun Prepare(InstanceRecord? record, Quota quota, InstanceLimits limits, AnalyzedChain chain, HeadSelection head)
    {
        var fromFile = head.FromFile is null ? 0 : chain.Statements.Count(s => s.Span.File != head.FromFile);
        var start = Math.Clamp(head.Start ?? fromFile, 0, chain.Statements.Count);
        var end = Math.Clamp(head.End ?? chain.Statements.Count, start, chain.Statements.Count);
        ChainKey? state = record is not null && ChainKey.TryParse(record.StateKey, out var key) ? key : null;
        return new ChainRun(record?.Id ?? Guid.Empty, limits, chain, start, end, state, quota.ResultLimits);
    }

    /// <summary>The account's latest runs, newest first.</summary>
    public async Task<IReadOnlyList<RunHistoryRecord>> HistoryAsync(string ownerId, int take, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.RunHistory.AsNoTracking()
            .Where(r => r.OwnerId == ownerId)
            .OrderByDescending(r => r.StartedAt)
            .Take(Math.Clamp(take, 1, MaxHistory))
            .ToListAsync(cancellationToken);
    }

    /// <summary>How many runs an account's history keeps.</summary>
    public const int MaxHistory = 200;

    /// <summary>The longest head text a history entry keeps (a longer one is cut, saying so).</summary>
    public const int MaxHistoryText = 100_000;

    private RunHistoryRecord HistoryEntry(string ownerId, AnalyzedChain chain, RunResult result, HeadSelection head, IReadOnlyList<SqlSource> sources, DateTimeOffset now)
    {
        var plan = result.Plan;
        var headStatements = chain.Statements.Skip(plan.HeadStart).Take(plan.HeadEnd - plan.HeadStart).ToList();
        var path = head.FromFile ?? headStatements.FirstOrDefault()?.Span.File ?? sources.LastOrDefault()?.Path ?? "";
        var text = head.FromFile is { } file && head.Start is null && head.End is null
            ? sources.FirstOrDefault(s => s.Path == file)?.Text ?? ""
            : string.Join("\n", headStatements.Select(s => s.Text));
        var error = result.Outcomes.Select(o => o.Error).FirstOrDefault(e => e is not null);
        return new RunHistoryRecord
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

    private static async Task ForgetOldRunsAsync(ControlPlaneDbContext db, string ownerId)
    {
        var keptSince = await db.RunHistory.Where(r => r.OwnerId == ownerId)
            .OrderByDescending(r => r.StartedAt)
            .Skip(MaxHistory)
            .Select(r => (DateTimeOffset?)r.StartedAt)
            .FirstOrDefaultAsync(CancellationToken.None);
        if (keptSince is { } oldest)
        {
            await db.RunHistory.Where(r => r.OwnerId == ownerId && r.StartedAt <= oldest).ExecuteDeleteAsync(CancellationToken.None);
        }
    }

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
        foreach (var build in result.LayerBuildTimes)
        {
            telemetry.LayerBuildDuration.Record(build.TotalSeconds);
        }

        telemetry.ReplayedStatements.Add(result.Plan.ReplayCount);
        telemetry.LayersTaken.Add(result.LayersTaken.Count);
    }

    /// <summary>Splits the chain once and keys it, seeing through the statements already known to change nothing (keyed again until no new one turns up).</summary>
    private async Task<AnalyzedChain> AnalyzeAsync(ControlPlaneDbContext db, IReadOnlyList<SqlSource> sources, CancellationToken cancellationToken)
    {
        var known = new HashSet<(ChainKey, ChainKey)>();
        var chain = ChainAnalysis.Analyze(sources, engine.Identity);
        for (var round = 0; round < 8 && chain.IsValid; round++)
        {
            var befores = chain.Keys.Select(k => k.ToString()).Distinct().ToList();
            var found = await db.NoOpStatements.AsNoTracking().Where(n => befores.Contains(n.BeforeKey)).ToListAsync(cancellationToken);
            var added = found.Select(n => (ChainKey.Parse(n.BeforeKey), ChainKey.Parse(n.AfterKey))).Count(known.Add);
            if (added == 0)
            {
                break;
            }

            chain = ChainAnalysis.Rekey(chain, engine.Identity, (before, after) => known.Contains((before, after)));
        }

        return chain;
    }

    private static async Task RecordAsync(ControlPlaneDbContext db, RunResult result, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var layer in result.LayersTaken)
        {
            var key = layer.Key.ToString();
            if (await db.Layers.FindAsync([key], cancellationToken) is null)
            {
                db.Layers.Add(new LayerRecord
                {
                    Key = key,
                    ParentKey = layer.Parent?.ToString(),
                    SizeBytes = layer.SizeBytes,
                    BuildCostMilliseconds = (long)result.ReplayDuration.TotalMilliseconds,
                    CreatedAt = now,
                    LastUsedAt = now,
                });
            }
        }

        if (result.Plan.Start == RunStart.RestoreLayer && await db.Layers.FindAsync([result.Plan.FromKey.ToString()], cancellationToken) is { } used)
        {
            used.Hits++;
            used.LastUsedAt = now;
        }

        foreach (var (before, after) in result.NoOps.Distinct())
        {
            var (b, a) = (before.ToString(), after.ToString());
            if (await db.NoOpStatements.FindAsync([b, a], cancellationToken) is null)
            {
                db.NoOpStatements.Add(new NoOpStatementRecord { BeforeKey = b, AfterKey = a, SeenAt = now });
            }
        }
    }
}
