using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Taidon.Core.Instances;
using Taidon.Core.Projects;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.Sql;

namespace Taidon.Benchmarks;

/// <summary>
/// The runner on the sample course, on real instances of the embedded runtime, run with <c>-- --runs</c>.
/// Each figure is a median, set against a baseline measured in the same process:
/// 1. a hot run against the same statements sent straight through Npgsql;
/// 2. a rewind (the first statement of an exercise edited) against a full replay on a fresh cluster;
/// 3. a new student's first result with an instance from the warm pool against one created for them.
/// The control plane's bookkeeping around a run (a few small queries) is not part of these figures.
/// </summary>
public static class RunBenchmarks
{
    private static readonly InstanceLimits Limits = new(StatementTimeout: TimeSpan.FromSeconds(60));

    /// <param name="iterations">Runs per figure (the full replays: a third of it).</param>
    /// <param name="directory">Where the instances and layers go (its filesystem picks the layer driver); the temp directory by default.</param>
    public static async Task RunAsync(int iterations, string? directory)
    {
        await using var instances = new BenchmarkInstances(directory);
        var (engine, runtime) = (instances.Engine, instances.Runtime);
        var executor = new RunExecutor(runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System, outcomeStore: new OutcomesInMemory());
        Console.WriteLine($"layer driver: {instances.Layers.Driver.Name}; {iterations} iterations; medians");
        var explore = Chain(engine, "test/01_explore.sql");

        // Warm-up: the first student builds the seed's layer.
        var a = await instances.CreateAsync(Limits);
        // A layer at the end of the tail whatever the machine's speed (the default policy may put its one
        // layer mid-seed on a loaded machine): the pooled instances below restore it.
        var first = await RunAsync(executor, a, explore, engine.Root, LayerPolicy.Default with { MinimumLayerCost = TimeSpan.Zero });
        Console.WriteLine($"first run ever: {first.Duration.TotalMilliseconds:F0} ms ({first.Plan.Describe()}, {first.LayersTaken.Count} layer(s) of {first.LayersTaken.Sum(l => l.Layer.SizeBytes) / 1048576.0:F0} MB)");

        // 1. Hot run.
        var connection = await runtime.StartAsync(a, Limits, CancellationToken.None);
        var direct = new List<TimeSpan>();
        var hot = new List<TimeSpan>();
        var outside = new List<TimeSpan>();
        for (var i = 0; i < iterations * 3; i++)
        {
            direct.Add(await TimeAsync(() => DirectAsync(connection, explore.Chain.Statements.Skip(explore.HeadStart))));
            var run = await RunAsync(executor, a, explore, first.FinalState, LayerPolicy.Default);
            Check(run, RunStart.Hot);
            hot.Add(run.Duration);
            outside.Add(run.Duration - run.HeadDuration);
        }

        Report("1. hot run of test/01_explore.sql (4 queries)", Median(hot), "the same statements through Npgsql", Median(direct));
        Console.WriteLine($"   of which outside the statements (session, rollback check): {Median(outside).TotalMilliseconds:F1} ms");

        // 2. Rewind: the exercise's first statement edited, against a full replay on a fresh cluster.
        var b = await instances.CreateAsync(Limits);
        var state = (await RunAsync(executor, b, Exercise(engine, 0), engine.Root, LayerPolicy.Default)).FinalState;
        var rewinds = new List<TimeSpan>();
        var heads = new List<TimeSpan>();
        for (var i = 1; i <= iterations; i++)
        {
            // The student reads the result and edits the script: the runtime's standby copy is made meanwhile.
            await Task.Delay(TimeSpan.FromSeconds(2));
            var run = await RunAsync(executor, b, Exercise(engine, i), state, LayerPolicy.Default);
            Check(run, RunStart.RestoreLayer);
            rewinds.Add(run.Duration);
            heads.Add(run.HeadDuration);
            state = run.FinalState;
        }

        // The baseline sees no layer but the base state: it replays everything, as a runner without the cache would.
        var uncached = new RunExecutor(new WithoutLayers(runtime, engine.Root), new NpgsqlSqlSessionFactory(), TimeProvider.System);
        var replays = new List<TimeSpan>();
        for (var i = 0; i < Math.Max(3, iterations / 3); i++)
        {
            var started = Stopwatch.GetTimestamp();
            var fresh = await instances.CreateAsync(Limits);
            var run = await RunAsync(uncached, fresh, Exercise(engine, 1000 + i), engine.Root, LayerPolicy.None);
            replays.Add(Stopwatch.GetElapsedTime(started));
            Check(run, RunStart.ContinueOnInstance);
            await runtime.DeleteAsync(fresh, CancellationToken.None);
        }

        Report("2. rewind: exercise edited and rerun", Median(rewinds), "full replay of init, seed and exercise on a fresh cluster", Median(replays));
        Console.WriteLine($"   of which the exercise's own statements: {Median(heads).TotalMilliseconds:F1} ms");
        var stops = new List<TimeSpan>();
        var starts = new List<TimeSpan>();
        for (var i = 0; i < iterations; i++)
        {
            stops.Add(await TimeAsync(() => runtime.StopAsync(b, CancellationToken.None)));
            starts.Add(await TimeAsync(() => runtime.StartAsync(b, Limits, CancellationToken.None)));
        }

        Console.WriteLine($"   an instance's stop: {Median(stops).TotalMilliseconds:F1} ms; start: {Median(starts).TotalMilliseconds:F1} ms");

        // 3. A new student's first result: the sample course's first script.
        var pooled = new List<TimeSpan>();
        var cold = new List<TimeSpan>();
        var pooledSelect = new List<TimeSpan>();
        var coldSelect = new List<TimeSpan>();
        var select = ChainAnalysis.Analyze([new SqlSource("script.sql", "SELECT 1;")], engine);
        for (var i = 0; i < iterations; i++)
        {
            // The warm pool keeps its instances in the state most runs restore: here, the seed's layer.
            var ready = await instances.CreateAsync(Limits);
            await runtime.RestoreAsync(ready, first.FinalState!.Value, Limits, CancellationToken.None);
            var pooledRun = await RunAsync(executor, ready, explore, first.FinalState, LayerPolicy.Default);
            Check(pooledRun, RunStart.Hot);
            pooled.Add(pooledRun.Duration);
            var readyForSelect = await instances.CreateAsync(Limits);
            pooledSelect.Add((await RunAsync(executor, readyForSelect, (select, 0), engine.Root, LayerPolicy.Default)).Duration);

            var started = Stopwatch.GetTimestamp();
            var created1 = await instances.CreateAsync(Limits);
            await RunAsync(executor, created1, explore, engine.Root, LayerPolicy.Default);
            cold.Add(Stopwatch.GetElapsedTime(started));
            started = Stopwatch.GetTimestamp();
            var created2 = await instances.CreateAsync(Limits);
            await RunAsync(executor, created2, (select, 0), engine.Root, LayerPolicy.Default);
            coldSelect.Add(Stopwatch.GetElapsedTime(started));
            foreach (var id in new[] { ready, readyForSelect, created1, created2 })
            {
                await runtime.DeleteAsync(id, CancellationToken.None);
            }
        }

        Report("3a. first result, SELECT 1, instance from the warm pool", Median(pooledSelect), "instance created for the student", Median(coldSelect));
        Report("3b. first result, test/01_explore.sql, instance from the warm pool (in the popular state)", Median(pooled), "instance created for the student", Median(cold));
    }

    private static (AnalyzedChain Chain, int HeadStart) Chain(EngineIdentity engine, string script, string? text = null)
    {
        var sources = SampleCourse.Files.Where(f => f.Path.StartsWith("init/", StringComparison.Ordinal) || f.Path.StartsWith("seed/", StringComparison.Ordinal))
            .Append(text is null ? SampleCourse.File(script) : new SqlSource(script, text))
            .ToList();
        var chain = ChainAnalysis.Analyze(sources, engine);
        return (chain, chain.Statements.Count(s => s.Span.File != script));
    }

    /// <summary>Exercise 3 (restock) with its first statement edited (a different, equivalent filter each time).</summary>
    private static (AnalyzedChain Chain, int HeadStart) Exercise(EngineIdentity engine, int edit)
    {
        const string path = "test/04_exercise_restock.sql";
        var text = SampleCourse.File(path).Text.Replace(
            "WHERE in_stock < 5",
            $"WHERE in_stock < 5 AND {edit.ToString(CultureInfo.InvariantCulture)} >= 0",
            StringComparison.Ordinal);
        return Chain(engine, path, text);
    }

    private static Task<RunResult> RunAsync(RunExecutor executor, Guid instance, (AnalyzedChain Chain, int HeadStart) run, ChainKey? state, LayerPolicy policy) =>
        executor.RunAsync(new ChainRun(instance, Limits, run.Chain, run.HeadStart, run.Chain.Statements.Count, state, new ResultLimits(), policy), null, CancellationToken.None);

    internal static async Task DirectAsync(InstanceConnection connection, IEnumerable<SqlStatement> statements)
    {
        await using var npgsql = new NpgsqlConnection(NpgsqlSqlSessionFactory.ConnectionString(connection, "baseline"));
        await npgsql.OpenAsync();
        foreach (var statement in statements)
        {
            if (statement.Kind == StatementKind.CopyFromStdin)
            {
                await using (var import = await npgsql.BeginTextImportAsync(statement.Text))
                {
                    await import.WriteAsync(statement.CopyData);
                }

                continue;
            }

            await using var command = new NpgsqlCommand(statement.Text, npgsql) { AllResultTypesAreUnknown = true };
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    _ = reader.IsDBNull(i) ? null : reader.GetString(i);
                }
            }
        }
    }

    private static void Check(RunResult run, RunStart expected)
    {
        if (!run.Succeeded || run.Plan.Start != expected)
        {
            var error = run.Outcomes.FirstOrDefault(o => o.Error is not null)?.Error;
            throw new InvalidOperationException($"Expected a {expected} run that succeeds, got {run.Plan.Describe()} ({error?.SqlState} {error?.Message}).");
        }
    }

    private static async Task<TimeSpan> TimeAsync(Func<Task> action)
    {
        var started = Stopwatch.GetTimestamp();
        await action();
        return Stopwatch.GetElapsedTime(started);
    }

    internal static TimeSpan Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2);

    private static void Report(string what, TimeSpan measured, string baselineName, TimeSpan baseline) =>
        Console.WriteLine($"| {what} | {measured.TotalMilliseconds:F1} ms | {baselineName} | {baseline.TotalMilliseconds:F1} ms | {measured / baseline:F2} |");

    /// <summary>The runtime as a runner without the snapshot cache sees it: only the base state is stored.</summary>
    private sealed class WithoutLayers(IInstanceRuntime runtime, ChainKey root) : IInstanceRuntime
    {
        public Task<InstanceConnection> CreateAsync(Guid instanceId, InstanceLimits limits, CancellationToken cancellationToken) => runtime.CreateAsync(instanceId, limits, cancellationToken);

        public Task<InstanceConnection> StartAsync(Guid instanceId, InstanceLimits limits, CancellationToken cancellationToken) => runtime.StartAsync(instanceId, limits, cancellationToken);

        public Task StopAsync(Guid instanceId, CancellationToken cancellationToken) => runtime.StopAsync(instanceId, cancellationToken);

        public Task DeleteAsync(Guid instanceId, CancellationToken cancellationToken) => runtime.DeleteAsync(instanceId, cancellationToken);

        public Task<bool> IsRunningAsync(Guid instanceId, CancellationToken cancellationToken) => runtime.IsRunningAsync(instanceId, cancellationToken);

        public bool HasLayer(ChainKey key) => key == root;

        public Core.Snapshots.ISnapshotLayers Layers => runtime.Layers;

        public Task<IReadOnlyCollection<RuntimeInstance>> ListAsync(CancellationToken cancellationToken) => runtime.ListAsync(cancellationToken);

        public int CountRunning() => runtime.CountRunning();

        public Task<InstanceUsage?> UsageAsync(Guid instanceId, CancellationToken cancellationToken) => runtime.UsageAsync(instanceId, cancellationToken);

        public Task<LayerCapture> CaptureAsync(Guid instanceId, ChainKey key, ChainKey? parent, InstanceLimits limits, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The baseline takes no layers.");

        public Task RestoreAsync(Guid instanceId, ChainKey key, InstanceLimits limits, CancellationToken cancellationToken) => runtime.RestoreAsync(instanceId, key, limits, cancellationToken);
    }

    internal sealed class OutcomesInMemory : IStatementOutcomeStore
    {
        private readonly Dictionary<ChainKey, RecordedOutcome> _outcomes = [];

        public Task<IReadOnlyDictionary<ChainKey, RecordedOutcome>> FindAsync(IReadOnlyCollection<ChainKey> keys, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<ChainKey, RecordedOutcome>>(keys.Distinct().Where(_outcomes.ContainsKey).ToDictionary(k => k, k => _outcomes[k]));

        public Task RecordAsync(IReadOnlyCollection<KeyValuePair<ChainKey, RecordedOutcome>> outcomes, CancellationToken cancellationToken)
        {
            foreach (var (key, outcome) in outcomes)
            {
                _outcomes.TryAdd(key, outcome);
            }

            return Task.CompletedTask;
        }

        public Task<int> ForgetAsync(DateTimeOffset before, CancellationToken cancellationToken) => Task.FromResult(0);
    }
}
