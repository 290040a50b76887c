using Npgsql;
using Taidon.Core.Instances;
using Taidon.Core.Projects;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.Sql;
using Taidon.Tests.Support;

namespace Taidon.Tests.Infrastructure.Runs;

/// <summary>Runs on real instances: replay, layers, cached reruns, results, errors and limits.</summary>
public sealed class RunExecutorTests : IAsyncLifetime
{
    private const string Init = "CREATE TABLE pets (id int PRIMARY KEY, name text, born date);\nINSERT INTO pets VALUES (1, 'Rex', '2020-01-02'), (2, NULL, NULL);";
    // Generous: on a loaded machine a statement can wait seconds for a core. The timeout test sets its own.
    private static readonly InstanceLimits Limits = new(MaxConnections: 4, StatementTimeout: TimeSpan.FromSeconds(30));
    private static readonly LayerPolicy EveryTail = new(TimeSpan.FromSeconds(30), TimeSpan.Zero, TimeSpan.FromMilliseconds(100));

    private readonly LocalInstances _instances = LocalInstances.Open();
    private Guid _instance;
    private LocalInstanceRuntime _runtime = null!;
    private RunExecutor _executor = null!;
    private EngineIdentity _engine = null!;

    public async Task InitializeAsync()
    {
        (_runtime, _engine) = (_instances.Runtime, _instances.Engine);
        _executor = new RunExecutor(_runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System);
        _instance = await _instances.CreateAsync(Limits);
    }

    public async Task DisposeAsync() => await _instances.DisposeAsync();

    [Fact]
    public async Task AFirstRunReplaysTheTailLayersItAndReturnsTheHeadsRows()
    {
        var chain = Chain(Init, "SELECT id, name, born FROM pets ORDER BY id;");

        var result = await RunAsync(chain, headStart: 2, state: null);

        Assert.True(result.Succeeded, Describe(result));
        Assert.Equal("restored the base state, replayed 2 statements", result.Plan.Describe());
        Assert.Equal([chain.Keys[2]], result.LayersTaken.Select(l => l.Layer.Key));
        Assert.Equal(["CREATE TABLE", "INSERT 0 2", "SELECT 2"], result.Outcomes.Select(o => o.CommandTag));
        var rows = Assert.Single(result.Outcomes[2].Results);
        Assert.Equal(["id:integer", "name:text", "born:date"], rows.Columns.Select(c => $"{c.Name}:{c.TypeName}"));
        Assert.Equal("1|Rex|2020-01-02", string.Join('|', rows.Rows[0]));
        Assert.True(rows.Rows[1][1] is null && rows.Rows[1][2] is null, "NULL stays null, distinct from any text");
        // Reading changed nothing: the state stays at the tail's key.
        Assert.False(result.Outcomes[2].ChangedState);
        Assert.Equal(chain.Keys[2], result.FinalState);
        Assert.Single(result.NoOps);
    }

    [Fact]
    public async Task ColumnsOfTheStudentsOwnTypesAreNamedAsPostgreSqlNamesThem()
    {
        // The session loads no types (a rewind gives it a new server): names of types it does not know come from the server.
        var chain = Chain(
            "CREATE TYPE mood AS ENUM ('sad', 'happy');\nCREATE DOMAIN positive AS int CHECK (VALUE > 0);\nCREATE TABLE feelings (m mood, n positive, ms mood[], r int4range);",
            "INSERT INTO feelings VALUES ('happy', 3, '{sad,happy}', '[1,5)');\nSELECT m, n, ms, r, ARRAY[1, 2] AS a, now() - now() AS i FROM feelings;");

        var result = await RunAsync(chain, headStart: 3, state: null);

        Assert.True(result.Succeeded, Describe(result));
        var rows = Assert.Single(result.Outcomes[4].Results);
        Assert.Equal(["m:mood", "n:integer", "ms:mood[]", "r:int4range", "a:integer[]", "i:interval"], rows.Columns.Select(c => $"{c.Name}:{c.TypeName}"));
        Assert.Equal("happy|3|{sad,happy}|[1,5)|{1,2}|00:00:00", string.Join('|', rows.Rows[0]));
    }

    [Fact]
    public async Task RerunningUnchangedIsHotAndRerunningAfterAChangeRestoresTheTailLayer()
    {
        var chain = Chain(Init, "UPDATE pets SET name = 'Max' WHERE id = 2;\nSELECT name FROM pets WHERE id = 2;");
        var first = await RunAsync(chain, headStart: 2, state: null);
        Assert.True(first.Succeeded, Describe(first));

        // The instance is past the head (the UPDATE changed it): the tail comes back from its layer.
        var second = await RunAsync(chain, headStart: 2, state: first.FinalState);

        Assert.Equal(RunStart.RestoreLayer, second.Plan.Start);
        Assert.Equal(2, second.Plan.From);
        Assert.Equal([StatementStatus.Cached, StatementStatus.Cached, StatementStatus.Executed, StatementStatus.Executed], second.Outcomes.Select(o => o.Status));
        Assert.Equal("Max", second.Outcomes[3].Results[0].Rows[0][0]);
        Assert.Equal("UPDATE 1", second.Outcomes[2].CommandTag);
    }

    [Fact]
    public async Task AnErrorPointsAtTheLineTypedAndSkipsTheRest()
    {
        var chain = Chain(Init, "SELECT 1;\nSELECT name,\n       nosuch FROM pets;\nSELECT 3;");

        var result = await RunAsync(chain, headStart: 2, state: null);

        var failed = result.Outcomes[3];
        Assert.Equal(StatementStatus.Error, failed.Status);
        Assert.Equal("42703", failed.Error!.SqlState);
        Assert.Equal("script1.sql", failed.Error.File);
        Assert.Equal(new SourcePosition(3, 8), failed.Error.Position);
        Assert.Equal(StatementStatus.Skipped, result.Outcomes[4].Status);
        Assert.Equal(chain.Keys[2], result.FinalState);
    }

    [Fact]
    public async Task AHugeResultIsCappedAndMarkedTruncated()
    {
        var chain = Chain("SELECT generate_series(1, 100000000) AS g, repeat('x', 100) AS padding;");

        var result = await RunAsync(chain, headStart: 0, state: null, new ResultLimits(MaxRows: 100));

        Assert.True(result.Succeeded, Describe(result));
        var rows = Assert.Single(result.Outcomes[0].Results);
        Assert.True(rows.Truncated);
        Assert.Equal(100, rows.Rows.Count);
        Assert.True(result.Outcomes[0].Duration < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task AStatementOverTheTimeoutIsStopped()
    {
        var chain = Chain("SET statement_timeout = 0;\nSELECT pg_sleep(30);");

        var result = await RunAsync(chain, headStart: 0, state: null, timeout: TimeSpan.FromSeconds(1));

        Assert.Equal("57014", result.Outcomes[1].Error!.SqlState);
        Assert.Contains("longer than", result.Outcomes[1].Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoppingARunCancelsTheRunningStatementKeepsTheStateAndTheNextRunWorks()
    {
        var chain = Chain(Init, "UPDATE pets SET name = 'Max' WHERE id = 2;\nSELECT pg_sleep(30);\nDELETE FROM pets;");
        var progress = new SynchronousProgress();
        using var stop = new CancellationTokenSource();
        progress.Reported += p =>
        {
            if (p.Phase == RunPhase.Running && p.Current == 4)
            {
                stop.CancelAfter(TimeSpan.FromMilliseconds(300));
            }
        };

        var result = await _executor.RunAsync(new ChainRun(_instance, Limits with { StatementTimeout = TimeSpan.FromSeconds(60) }, chain, 2, 5, null, new ResultLimits(), EveryTail), progress, stop.Token);

        Assert.True(result.Stopped);
        Assert.False(result.Succeeded);
        Assert.Equal([StatementStatus.Executed, StatementStatus.Executed, StatementStatus.Executed, StatementStatus.Error, StatementStatus.Skipped], result.Outcomes.Select(o => o.Status));
        Assert.Equal("57014", result.Outcomes[3].Error!.SqlState);
        Assert.Contains("You stopped the run", result.Outcomes[3].Error!.Message, StringComparison.Ordinal);
        Assert.True(result.Outcomes[3].Duration < TimeSpan.FromSeconds(10), "the server stopped the sleep at once");
        Assert.Equal(chain.Keys[3], result.FinalState);

        var next = await RunAsync(Chain(Init, "UPDATE pets SET name = 'Max' WHERE id = 2;\nSELECT name FROM pets WHERE id = 2;"), headStart: 3, state: result.FinalState);
        Assert.Equal(RunStart.Hot, next.Plan.Start);
        Assert.Equal("Max", next.Outcomes[3].Results[0].Rows[0][0]);
    }

    [Fact]
    public async Task RestoredStatementsShowWhatTheyDidAndAHeadAlreadyAppliedIsNotRunAgain()
    {
        var executor = new RunExecutor(_runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System, outcomeStore: new OutcomesInMemory());
        var chain = Chain(Init, "INSERT INTO pets VALUES (3, 'Tom');\nSELECT count(*) FROM pets;");
        var first = await executor.RunAsync(new ChainRun(_instance, Limits, chain, 2, 4, null, new ResultLimits(), EveryTail), null, CancellationToken.None);
        Assert.True(first.Succeeded, Describe(first));

        // The same script again: the INSERT's effect is there, so it is shown cached with its tag; the count runs.
        var second = await executor.RunAsync(new ChainRun(_instance, Limits, chain, 2, 4, first.FinalState, new ResultLimits(), EveryTail), null, CancellationToken.None);

        Assert.Equal(RunStart.Hot, second.Plan.Start);
        Assert.Equal([StatementStatus.Cached, StatementStatus.Cached, StatementStatus.Cached, StatementStatus.Executed], second.Outcomes.Select(o => o.Status));
        Assert.Equal(["CREATE TABLE", "INSERT 0 2", "INSERT 0 1"], second.Outcomes.Take(3).Select(o => o.CommandTag));
        Assert.Equal([null, 2L, 1L], second.Outcomes.Take(3).Select(o => o.RowsAffected));
        Assert.Equal("3", second.Outcomes[3].Results[0].Rows[0][0]);
    }

    [Fact]
    public async Task TheSampleCoursesExercisesPassOnItsSeedAndARerunRestoresTheSeedLayer()
    {
        ChainKey? state = null;
        var plans = new List<string>();
        foreach (var test in SampleCourse.Files.Where(f => f.Path.StartsWith("test/", StringComparison.Ordinal)))
        {
            var sources = SampleCourse.Files.Where(f => f.Path.StartsWith("init/", StringComparison.Ordinal) || f.Path.StartsWith("seed/", StringComparison.Ordinal)).Append(test).ToList();
            var chain = ChainAnalysis.Analyze(sources, _engine);
            var headStart = chain.Statements.Count(s => s.Span.File != test.Path);
            var result = await _executor.RunAsync(new ChainRun(_instance, Limits, chain, headStart, chain.Statements.Count, state, new ResultLimits(), LayerPolicy.Default), null, CancellationToken.None);

            Assert.True(result.Succeeded, test.Path + "\n" + Describe(result));
            // Where the layers fall depends on measured replay times; what matters is that reruns start from one, not from the base.
            plans.Add(result.Plan.Start + (result.Plan.From == 0 ? " from 0" : ""));
            state = result.FinalState;
        }

        // The first run replays init and seed (and layers their end, measured as costly); exploring changes nothing, so the
        // first exercise starts hot; the exercises change the database, so the next ones restore the seed's layer.
        Assert.Equal([$"{nameof(RunStart.RestoreLayer)} from 0", nameof(RunStart.Hot), nameof(RunStart.RestoreLayer), nameof(RunStart.RestoreLayer)], plans);
    }

    [Fact]
    public async Task CopyFromStdinLoadsItsInlineData()
    {
        var chain = Chain("CREATE TABLE t (a int, b text);\nCOPY t FROM stdin;\n1\tone\n2\ttwo\n\\.\n", "SELECT count(*) FROM t;");

        var result = await RunAsync(chain, headStart: 2, state: null);

        Assert.True(result.Succeeded, Describe(result));
        Assert.Equal("COPY 2", result.Outcomes[1].CommandTag);
        Assert.Equal("2", result.Outcomes[2].Results[0].Rows[0][0]);
    }

    [Fact]
    public async Task ATransactionLeftOpenIsRolledBackAndTheStateIsUnknown()
    {
        var chain = Chain(Init, "BEGIN;\nDELETE FROM pets;");

        var result = await RunAsync(chain, headStart: 2, state: null);

        Assert.Null(result.FinalState);
        var check = await RunAsync(Chain(Init, "SELECT count(*) FROM pets;"), headStart: 2, state: null);
        Assert.Equal("2", check.Outcomes[2].Results[0].Rows[0][0]);
    }

    [Fact]
    public async Task TwoRunsThatNeedTheSameMissingLayerBuildItOnce()
    {
        var controlPlane = await Taidon.Tests.Support.TestControlPlane.GetAsync();
        var gate = new Taidon.Infrastructure.Persistence.AdvisoryLayerBuildGate(new Taidon.Infrastructure.Persistence.ControlPlaneConnection(controlPlane.ConnectionString, null));
        var executor = new RunExecutor(_runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System, gate);
        var other = Guid.NewGuid();
        await _runtime.CreateAsync(other, Limits, CancellationToken.None);
        try
        {
            var chain = Chain(Init, "SELECT count(*) FROM pets;");

            var results = await Task.WhenAll(
                executor.RunAsync(new ChainRun(_instance, Limits, chain, 2, 3, null, new ResultLimits(), EveryTail), null, CancellationToken.None),
                executor.RunAsync(new ChainRun(other, Limits, chain, 2, 3, null, new ResultLimits(), EveryTail), null, CancellationToken.None));

            Assert.All(results, r => Assert.True(r.Succeeded, Describe(r)));
            Assert.Equal(1, results.Sum(r => r.LayersTaken.Count));
            Assert.True(_runtime.HasLayer(chain.Keys[2]));
        }
        finally
        {
            await _runtime.DeleteAsync(other, CancellationToken.None);
        }
    }

    [Fact]
    public async Task KillingThePostmasterInTheMiddleOfARunGivesAClearErrorAndTheNextRunWorks()
    {
        var running = RunAsync(Chain(Init, "SELECT pg_sleep(0.9);"), headStart: 2, state: null);
        var connection = await _runtime.StartAsync(_instance, Limits, CancellationToken.None);
        await WaitUntilSleepingAsync(connection);
        var pid = int.Parse(File.ReadLines(Path.Combine(_instances.Root, "i", _instance.ToString("N"), "pgdata", "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
        System.Diagnostics.Process.GetProcessById(pid).Kill();

        var result = await running;

        var error = result.Outcomes[2].Error!;
        Assert.Equal("08006", error.SqlState);
        Assert.Contains("connection to your instance was lost", error.Message, StringComparison.Ordinal);
        Assert.Null(result.FinalState);
        var next = await RunAsync(Chain(Init, "SELECT count(*) FROM pets;"), headStart: 2, state: null);
        Assert.True(next.Succeeded, Describe(next));
        Assert.Equal("2", next.Outcomes[2].Results[0].Rows[0][0]);
    }

    private static async Task WaitUntilSleepingAsync(InstanceConnection connection)
    {
        for (var attempt = 0; attempt < 500; attempt++)
        {
            try
            {
                await using var probe = new NpgsqlConnection(Taidon.Infrastructure.Sql.NpgsqlSqlSessionFactory.ConnectionString(connection, "probe"));
                await probe.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'", probe);
                if ((long)(await command.ExecuteScalarAsync())! > 0)
                {
                    return;
                }
            }
            catch (NpgsqlException)
            {
                // The run restarts the instance while it takes its layer: try again.
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("The statement never started.");
    }

    private async Task<RunResult> RunAsync(AnalyzedChain chain, int headStart, ChainKey? state, ResultLimits? limits = null, TimeSpan? timeout = null) =>
        await _executor.RunAsync(new ChainRun(_instance, Limits with { StatementTimeout = timeout ?? Limits.StatementTimeout }, chain, headStart, chain.Statements.Count, state, limits ?? new ResultLimits(), EveryTail), null, CancellationToken.None);

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool, too late to stop a statement in time).</summary>
    private sealed class SynchronousProgress : IProgress<RunProgress>
    {
        public event Action<RunProgress>? Reported;

        public void Report(RunProgress value) => Reported?.Invoke(value);
    }

    private AnalyzedChain Chain(params string[] scripts) =>
        ChainAnalysis.Analyze([.. scripts.Select((s, i) => new SqlSource($"script{i}.sql", s))], _engine);

    private static string Describe(RunResult result) =>
        string.Join("\n", result.Outcomes.Select(o => $"{o.Index} {o.Status} {o.CommandTag} {o.Error?.SqlState} {o.Error?.Message}"));
}
