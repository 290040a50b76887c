using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.Sql;
using Taidon.Tests.Support;

namespace Taidon.Tests.Infrastructure.Runs;

/// <summary>
/// Layers inside the script being run (a single script, no init or seed): an edit below one restores it,
/// and a layer never changes what the statements after it see (currval, settings, temporary tables,
/// prepared statements). On the temp directory's filesystem a capture restarts the instance; on btrfs
/// (as root, on an image the test mounts) it snapshots the running instance and the session goes on.
/// </summary>
public sealed class ScriptLayerTests
{
    private static readonly InstanceLimits Limits = new(MaxConnections: 4, StatementTimeout: TimeSpan.FromSeconds(30));

    // A layer wherever the script allows one, whatever the statements cost.
    private static readonly LayerPolicy EveryStatement = LayerPolicy.Default with { ScriptRewindBudget = TimeSpan.Zero, EditPointCost = TimeSpan.Zero, CaptureShare = 1_000 };

    private const string Load = """
        CREATE SEQUENCE s;
        SELECT nextval('s');
        SET search_path = public, pg_catalog;
        CREATE TABLE a (x int);
        INSERT INTO a SELECT generate_series(1, 1000);
        """;

    [Fact]
    public Task OnCopiesAnEditBelowALayerRestoresItAndTheSessionIsAsBefore() => EditBelowALayerAsync(null);

    [RootFact]
    public Task OnBtrfsTheRunningInstanceIsSnapshottedAndTheSessionGoesOn() => EditBelowALayerAsync(Btrfs());

    [Fact]
    public Task OnCopiesTemporaryTablesAndPreparedStatementsSurviveTheLayerRule() => SessionObjectsAsync(null);

    [RootFact]
    public Task OnBtrfsTemporaryTablesAndPreparedStatementsSurviveTheLayerRule() => SessionObjectsAsync(Btrfs());

    [RootFact]
    public async Task OnBtrfsACaptureIsTakenWhateverSettingsTheStudentGaveTheirDatabase()
    {
        // The capture's checkpoint runs in the student's database (its catalog caches are warm there), which the
        // student owns: a statement timeout they give it would otherwise cancel the checkpoint.
        var storage = Btrfs();
        var instances = LocalInstances.Open(storage.MountPoint);
        try
        {
            var instance = await instances.CreateAsync(Limits);
            var at = await instances.Runtime.StartAsync(instance, Limits, CancellationToken.None);
            await using (var student = new NpgsqlConnection($"Host={at.Host};Port={at.Port};Database={at.Database};Username={at.User};Password={at.Password};Pooling=false"))
            {
                await student.OpenAsync();
                await using var command = new NpgsqlCommand(
                    $"ALTER DATABASE {at.Database} SET statement_timeout = '1ms'; ALTER DATABASE {at.Database} SET lock_timeout = '1ms'; CREATE TABLE t AS SELECT generate_series(1, 200000) AS x;", student);
                await command.ExecuteNonQueryAsync();
            }

            var key = instances.Engine.Root.Next("create table t as select generate_series(1, 200000) as x");
            var capture = await instances.Runtime.CaptureAsync(instance, key, null, Limits, CancellationToken.None);
            await capture.Published;

            Assert.True(capture.SessionsKept, "a live snapshot");
            Assert.True(instances.Runtime.HasLayer(key));
        }
        finally
        {
            await instances.DisposeAsync();
            storage.Release(NullLogger.Instance);
        }
    }

    [Fact]
    public async Task AWriteInsideATransactionBlockThatHasItsIdAlreadyIsAChange()
    {
        // After the block's first write the transaction id stays the same: the rows written tell the probe.
        var instances = LocalInstances.Open();
        try
        {
            var executor = new RunExecutor(instances.Runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System);
            var instance = await instances.CreateAsync(Limits);
            var chain = Analyze(instances.Engine, "BEGIN;\nCREATE TABLE t (x int);\nINSERT INTO t VALUES (1);\nCREATE INDEX ON t (x);\nSELECT 1;\nCOMMIT;");

            var result = await RunAsync(executor, new ScriptEdits(), instance, chain, null);

            Assert.True(result.Succeeded, Describe(result));
            Assert.True(result.Outcomes[2].ChangedState, "the INSERT");
            Assert.True(result.Outcomes[3].ChangedState, "the CREATE INDEX");
            Assert.False(result.Outcomes[4].ChangedState, "the SELECT");
            Assert.DoesNotContain(result.NoOps, n => n.After == chain.Keys[3] || n.After == chain.Keys[4]);
        }
        finally
        {
            await instances.DisposeAsync();
        }
    }

    private static async Task EditBelowALayerAsync(InstanceStorage? storage)
    {
        var instances = LocalInstances.Open(storage?.MountPoint);
        try
        {
            var executor = new RunExecutor(instances.Runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System, outcomeStore: new OutcomesInMemory());
            var edits = new ScriptEdits();
            var instance = await instances.CreateAsync(Limits);
            var first = Analyze(instances.Engine, Load + "UPDATE a SET x = 0 WHERE x = 1;\nSELECT currval('s'), current_setting('search_path'), count(*), min(x) FROM a;");

            var cold = await RunAsync(executor, edits, instance, first, null);

            Assert.True(cold.Succeeded, Describe(cold));
            Assert.Contains(cold.LayersTaken, l => l.InScript);
            Assert.Equal("1|public, pg_catalog|1000|0", string.Join('|', cold.Outcomes[^1].Results[0].Rows[0]));
            Assert.Equal(storage is not null, instances.Runtime.Layers.Driver.Name == "btrfs");
            if (storage is not null)
            {
                // A btrfs layer is sealed: read-only even for root (its manifest does not hash what cannot change).
                var data = Path.Combine(instances.Root, "layers", "layers", cold.LayersTaken.First(l => l.InScript).Layer.Key.ToString(), "data");
                Assert.True(Directory.Exists(data), data);
                Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(data, "intruder"), "x"));
            }


            // The UPDATE edited: the rerun starts from the layer after the INSERT, the statements above it shown cached.
            var edited = Analyze(instances.Engine, Load + "UPDATE a SET x = -1 WHERE x = 1;\nSELECT currval('s'), current_setting('search_path'), count(*), min(x) FROM a;");
            var rerun = await RunAsync(executor, edits, instance, edited, cold.FinalState);

            Assert.True(rerun.Succeeded, Describe(rerun));
            Assert.Equal(RunStart.RestoreLayer, rerun.Plan.Start);
            Assert.Equal(edited.Statements.Count - 2, rerun.Plan.From);
            Assert.Equal("1|public, pg_catalog|1000|-1", string.Join('|', rerun.Outcomes[^1].Results[0].Rows[0]));
        }
        finally
        {
            await instances.DisposeAsync();
            storage?.Release(NullLogger.Instance);
        }
    }

    private static async Task SessionObjectsAsync(InstanceStorage? storage)
    {
        var instances = LocalInstances.Open(storage?.MountPoint);
        try
        {
            var executor = new RunExecutor(instances.Runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System, outcomeStore: new OutcomesInMemory());
            var instance = await instances.CreateAsync(Limits);
            var chain = Analyze(instances.Engine, """
                CREATE TEMP TABLE picked AS SELECT 1 AS one;
                PREPARE two AS SELECT 2;
                CREATE TABLE b (x int);
                INSERT INTO b SELECT generate_series(1, 1000);
                SELECT (SELECT one FROM picked), count(*) FROM b;
                EXECUTE two;
                """);

            var result = await RunAsync(executor, new ScriptEdits(), instance, chain, null);

            Assert.True(result.Succeeded, Describe(result));
            Assert.Equal("1|1000", string.Join('|', result.Outcomes[4].Results[0].Rows[0]));
            Assert.Equal("2", string.Join('|', result.Outcomes[5].Results[0].Rows[0]));
        }
        finally
        {
            await instances.DisposeAsync();
            storage?.Release(NullLogger.Instance);
        }
    }

    /// <summary>A btrfs image of 2 GB mounted in a new temp folder (the app's own copy-on-write storage, as root).</summary>
    private static InstanceStorage Btrfs()
    {
        var data = Directory.CreateTempSubdirectory("tdn-btrfs-").FullName;
        File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var storage = InstanceStorage.Prepare(data, new StorageOptions { CopyOnWrite = "auto", ImageGigabytes = 2 }, NullLogger.Instance);
        Assert.NotNull(storage.MountPoint);
        return storage;
    }

    private static Task<RunResult> RunAsync(RunExecutor executor, ScriptEdits edits, Guid instance, AnalyzedChain chain, ChainKey? state) =>
        executor.RunAsync(new ChainRun(instance, Limits, chain, 0, chain.Statements.Count, state, new ResultLimits(), EveryStatement, edits.Learn("ann", "script.sql", chain.Keys)), null, CancellationToken.None);

    private static AnalyzedChain Analyze(EngineIdentity engine, string script) => ChainAnalysis.Analyze([new SqlSource("script.sql", script)], engine);

    private static string Describe(RunResult result) =>
        string.Join("\n", result.Outcomes.Select(o => $"{o.Index} {o.Status} {o.CommandTag} {o.Error?.SqlState} {o.Error?.Message}"));
}
