using Microsoft.Extensions.Logging.Abstractions;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.Sql;
using Taidon.Tests.Support;
using Xunit.Abstractions;

namespace Taidon.Tests.Infrastructure.Runs;

/// <summary>
/// What a hostile (or unlucky) student sends, on real instances. The determinism rule: the state a run leaves
/// is its key only while it is certainly what a clean replay makes; what a statement could have changed makes
/// it unknown instead. The bounds on what a run returns, and the platform's own queries on an instance.
/// </summary>
public sealed class HostileStudentRunTests(ITestOutputHelper output) : IAsyncLifetime
{
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
    public async Task ABlockThatCommitsAndThenFailsLeavesTheStateUnknownSoTheRerunRestores()
    {
        var failing = Chain("CREATE TABLE t(x int);\nDO $$BEGIN INSERT INTO t VALUES (1); COMMIT; RAISE EXCEPTION 'boom'; END$$;");
        var first = await RunAsync(failing, 0, null);
        Assert.Equal("P0001", first.Outcomes[1].Error?.SqlState);
        Assert.Null(first.FinalState);

        var rerun = Chain("CREATE TABLE t(x int);\nSELECT count(*) FROM t;");
        var second = await RunAsync(rerun, 1, first.FinalState);

        Assert.NotEqual(RunStart.Hot, second.Plan.Start);
        Assert.Equal("0", second.Outcomes[1].Results[0].Rows[0][0]);
    }

    [Fact]
    public async Task AProcedureThatCommitsAndIsStoppedByTheTimeoutLeavesTheStateUnknown()
    {
        var chain = Chain("CREATE TABLE t(x int);\nCREATE PROCEDURE p() LANGUAGE plpgsql AS $$BEGIN INSERT INTO t VALUES (1); COMMIT; PERFORM pg_sleep(30); END$$;\nCALL p();");
        var result = await _executor.RunAsync(new ChainRun(_instance, Limits with { StatementTimeout = TimeSpan.FromSeconds(1) }, chain, 0, 3, null, new ResultLimits(), EveryTail), null, CancellationToken.None);

        Assert.Equal("57014", result.Outcomes[2].Error?.SqlState);
        Assert.Null(result.FinalState);
    }

    [Theory]
    [InlineData("SELECT nosuch FROM t;", "42703")]
    [InlineData("SELECT * FROM nowhere;", "42P01")]
    [InlineData("SELEC 1;", "42601")]
    [InlineData("INSERT INTO t VALUES ('not a number');", "22P02")]
    [InlineData("DO $$BEGIN INSERT INTO t VALUES (1) oops; END$$;", "42601")]
    public async Task AnErrorRaisedBeforeAnythingRanKeepsTheKeySoATypoCostsNoRestore(string typo, string sqlState)
    {
        var chain = Chain("CREATE TABLE t(x int);\n" + typo);

        var result = await RunAsync(chain, 1, null);

        Assert.Equal(sqlState, result.Outcomes[1].Error?.SqlState);
        Assert.False(result.Outcomes[1].ChangedState);
        Assert.Equal(chain.Keys[1], result.FinalState);
    }

    [Theory]
    [InlineData("INSERT INTO t VALUES (101), (101);")]
    [InlineData("SELECT nextval('s'), x / 0 FROM t;")]
    [InlineData("SELECT f_fails();")]
    [InlineData("CREATE UNIQUE INDEX CONCURRENTLY t_x ON t (x);")]
    public async Task AnErrorRaisedWhileTheStatementRanLeavesTheStateUnknown(string failing)
    {
        var chain = Chain("""
            CREATE TABLE t(x int);
            CREATE SEQUENCE s;
            CREATE UNIQUE INDEX t_unique ON t (x) WHERE x > 100;
            INSERT INTO t VALUES (5), (5);
            CREATE FUNCTION f_fails() RETURNS int LANGUAGE plpgsql AS $$BEGIN PERFORM nextval('s'); RETURN 1 / 0; END$$;
            """ + "\n" + failing);

        var result = await RunAsync(chain, 5, null);

        Assert.Equal(StatementStatus.Error, result.Outcomes[5].Status);
        Assert.True(result.Outcomes[5].ChangedState);
        Assert.Null(result.FinalState);
    }

    [Theory]
    [InlineData("SELECT x / 0 FROM t;")]
    [InlineData("SELECT pg_catalog.pg_sleep(30);")]
    public async Task AFailedOrTimedOutStatementThatMovedNothingKeepsTheKey(string failing)
    {
        var chain = Chain("CREATE TABLE t(x int);\nINSERT INTO t VALUES (1);\n" + failing);

        var result = await _executor.RunAsync(new ChainRun(_instance, Limits with { StatementTimeout = TimeSpan.FromSeconds(1) }, chain, 2, 3, null, new ResultLimits(), EveryTail), null, CancellationToken.None);

        Assert.Equal(StatementStatus.Error, result.Outcomes[2].Status);
        Assert.False(result.Outcomes[2].ChangedState);
        Assert.Equal(chain.Keys[2], result.FinalState);
    }

    [Fact]
    public async Task VacuumIsAChangeBecauseItDecidesWhereLaterRowsGo()
    {
        var chain = Chain("CREATE TABLE t (x int);\nINSERT INTO t SELECT generate_series(1, 100);\nDELETE FROM t WHERE x < 50;\nVACUUM t;");

        var result = await RunAsync(chain, 3, null);

        Assert.True(result.Succeeded, Describe(result));
        Assert.True(result.Outcomes[3].ChangedState);
        Assert.Equal(chain.Keys[4], result.FinalState);
    }

    [Fact]
    public async Task AnUnknownColumnNextToAStudentsFunctionKeepsTheKeyForTheProbeSawNothingMove()
    {
        var chain = Chain("""
            CREATE SEQUENCE s;
            CREATE FUNCTION sneaky() RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.nextval(''s'')';
            SELECT sneaky() + 1, nosuch FROM (SELECT 1) AS one;
            """);

        var result = await RunAsync(chain, 2, null);

        Assert.Equal("42703", result.Outcomes[2].Error?.SqlState);
        Assert.Equal(chain.Keys[2], result.FinalState);
    }

    [Fact]
    public async Task ASequenceMovedInsideAFunctionIsAChangeNotANoOp()
    {
        var chain = Chain("CREATE SEQUENCE s;\nCREATE FUNCTION next_one() RETURNS bigint LANGUAGE sql AS 'SELECT pg_catalog.nextval(''s'')';\nSELECT next_one();");

        var result = await RunAsync(chain, 2, null);

        Assert.True(result.Outcomes[2].ChangedState);
        Assert.Empty(result.NoOps);
        Assert.Equal(chain.Keys[3], result.FinalState);
    }

    [Theory]
    [InlineData("CREATE TEMP TABLE scratch (x int);")]
    [InlineData("PREPARE q AS SELECT 1;")]
    [InlineData("SELECT pg_advisory_lock(7);")]
    [InlineData("ALTER ROLE CURRENT_USER SET search_path = elsewhere, public;")]
    public async Task SessionStateNoLayerKeepsMakesTheStateUnknownAndTakesNoLayerAfterIt(string touching)
    {
        var chain = Chain("CREATE SCHEMA elsewhere;\n" + touching + "\nCREATE TABLE elsewhere.after_it (x int);\nSELECT 1;");

        var result = await RunAsync(chain, 3, null);

        Assert.True(result.Succeeded, Describe(result));
        Assert.True(result.Outcomes[1].TouchedSession);
        Assert.DoesNotContain(result.LayersTaken, l => l.Layer.Key == chain.Keys[2] || l.Layer.Key == chain.Keys[3]);
        Assert.Null(result.FinalState);
    }

    [Theory]
    [InlineData("SELECT set_config('taidon.mark', '17', false);\nSELECT set_config('taidon.mark', '17', false);")]
    [InlineData("CREATE FUNCTION mark() RETURNS void LANGUAGE plpgsql AS $$BEGIN SET taidon.mark = '5'; END$$;\nSELECT mark();")]
    [InlineData("CREATE FUNCTION mark() RETURNS void LANGUAGE plpgsql AS $$BEGIN PERFORM pg_catalog.SET_CONFIG('taidon.mark', '5', false); END$$;\nSELECT mark();")]
    [InlineData("SELECT U&\"set\\005fconfig\"('taidon.mark', '5', false);\nSELECT 1;")]
    [InlineData("DO $$BEGIN EXECUTE 'SET taidon' || '.mark = 5'; END$$;\nSELECT 1;")]
    [InlineData("DO $$BEGIN SET/**/taidon.mark = '5'; END$$;\nSELECT 1;")]
    [InlineData("SELECT query_to_xml('SELECT pg_catalog.' || 'set_' || 'config(''taidon.mark'', ''5'', false)', false, false, '');\nSELECT 1;")]
    [InlineData("CREATE SEQUENCE a;\nSELECT nextval('a'), lastval();")]
    public async Task ACustomVariablePgSettingsDoesNotListMakesEveryStateAfterItUnknown(string setting)
    {
        var chain = Chain("CREATE TABLE t (x int);\n" + setting + "\nCREATE TABLE u (x int);\nSELECT current_setting('taidon.mark', true);");

        var result = await RunAsync(chain, 1, null);

        Assert.True(result.Succeeded, Describe(result));
        Assert.Empty(result.NoOps);
        Assert.DoesNotContain(result.LayersTaken, l => l.Layer.Key == chain.Keys[2] || l.Layer.Key == chain.Keys[3] || l.Layer.Key == chain.Keys[4]);
        Assert.Null(result.FinalState);
    }

    [Fact]
    public async Task ATriggersExecuteFunctionClauseRunsNoCodeSoTheStatesAfterItAreKnownAndLayered()
    {
        var chain = Chain("""
            CREATE TABLE t (x int);
            CREATE TABLE total (n bigint);
            INSERT INTO total VALUES (0);
            CREATE FUNCTION count_row() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN UPDATE total SET n = n + 1; RETURN NEW; END$$;
            CREATE TRIGGER t_count AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION count_row();
            INSERT INTO t SELECT g FROM generate_series(1, 10) g;
            SELECT n FROM total;
            """);

        var result = await RunAsync(chain, 5, null);

        Assert.True(result.Succeeded, Describe(result));
        Assert.Contains(result.LayersTaken, l => l.Layer.Key == chain.Keys[5]);
        Assert.Equal(chain.Keys[6], result.FinalState);
    }

    [Fact]
    public async Task ATriggerFiringAFunctionThatRunsSqlFromAStringLeavesTheStateUnknown()
    {
        var chain = Chain("""
            CREATE TABLE t (x int);
            CREATE FUNCTION hidden() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN EXECUTE 'SET taidon' || '.mark = 5'; RETURN NEW; END$$;
            CREATE TRIGGER t_hidden AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION hidden();
            INSERT INTO t VALUES (1);
            SELECT current_setting('taidon.mark', true);
            """);

        var result = await RunAsync(chain, 3, null);

        Assert.True(result.Succeeded, Describe(result));
        Assert.DoesNotContain(result.LayersTaken, l => l.Layer.Key == chain.Keys[2] || l.Layer.Key == chain.Keys[3] || l.Layer.Key == chain.Keys[4]);
        Assert.Null(result.FinalState);
    }

    [Fact]
    public async Task ASettingChangedInsideAFunctionIsSeenAndMakesTheStateUnknown()
    {
        var chain = Chain("CREATE SCHEMA elsewhere;\nCREATE FUNCTION hop() RETURNS void LANGUAGE plpgsql AS $$BEGIN SET search_path = elsewhere, public; END$$;\nSELECT hop();\nCREATE TABLE after_it (x int);\nSELECT 1;");

        var result = await RunAsync(chain, 2, null);

        Assert.True(result.Succeeded, Describe(result));
        Assert.True(result.Outcomes[2].TouchedSession);
        Assert.DoesNotContain(result.LayersTaken, l => l.Layer.Key == chain.Keys[3] || l.Layer.Key == chain.Keys[4]);
        Assert.Null(result.FinalState);
    }

    [Fact]
    public async Task ASetStatementIsNotSessionStateTheRunnerCannotApplyAgain()
    {
        var chain = Chain("CREATE SCHEMA elsewhere;\nSET search_path = elsewhere, public;\nCREATE TABLE here (x int);\nSELECT 1;");

        var result = await RunAsync(chain, 3, null);

        Assert.False(result.Outcomes[1].TouchedSession);
        Assert.Equal(chain.Keys[3], result.FinalState);
    }

    [Fact]
    public async Task CurrvalHoldsInANewSessionAsInTheCleanReplay()
    {
        var first = Chain("CREATE SEQUENCE s;\nSELECT nextval('s');\nSELECT nextval('s');");
        var made = await RunAsync(first, 0, null);
        Assert.True(made.Succeeded, Describe(made));

        var next = Chain("CREATE SEQUENCE s;\nSELECT nextval('s');\nSELECT nextval('s');\nSELECT currval('s');");
        var hot = await RunAsync(next, 3, made.FinalState);

        Assert.Equal(RunStart.Hot, hot.Plan.Start);
        Assert.True(hot.Succeeded, Describe(hot));
        Assert.Equal("2", hot.Outcomes[3].Results[0].Rows[0][0]);
    }

    [Fact]
    public async Task TheProbeCannotBeFooledByTheStudentsOwnCatalogFunctionsOrOperators()
    {
        var chain = Chain("""
            CREATE SCHEMA evil;
            CREATE FUNCTION evil.pg_current_snapshot() RETURNS pg_snapshot LANGUAGE sql AS $$SELECT '1:1:'::pg_snapshot$$;
            CREATE FUNCTION evil.pg_snapshot_xmax(pg_snapshot) RETURNS xid8 LANGUAGE sql AS $$SELECT '1'::xid8$$;
            CREATE FUNCTION evil.md5(text) RETURNS text LANGUAGE sql AS $$SELECT 'same'$$;
            CREATE TABLE t (x int);
            SET search_path = evil, pg_catalog, public;
            INSERT INTO t VALUES (1);
            """);

        var result = await RunAsync(chain, 6, null);

        Assert.True(result.Succeeded, Describe(result));
        Assert.True(result.Outcomes[6].ChangedState);
        Assert.Equal(chain.Keys[7], result.FinalState);
    }

    [Fact]
    public async Task ANoticeFloodKeepsTheFirstNoticesAndSaysHowManyWereDropped()
    {
        var chain = Chain("DO $$BEGIN FOR i IN 1..5000 LOOP RAISE NOTICE '%', repeat('n', 1000); END LOOP; END$$;\nDO $$BEGIN FOR i IN 1..50 LOOP RAISE NOTICE 'second %', i; END LOOP; END$$;");

        var result = await RunAsync(chain, 0, null, new ResultLimits(MaxNoticesPerStatement: 100, MaxNoticesPerRun: 120));

        Assert.True(result.Succeeded, Describe(result));
        Assert.Equal(100, result.Outcomes[0].Notices.Count);
        Assert.Equal(new ResultCut(ResultCutKind.NoticesPerStatement, 100, 4900), Assert.Single(result.Outcomes[0].Cuts));
        Assert.Equal(20, result.Outcomes[1].Notices.Count);
        Assert.Equal(new ResultCut(ResultCutKind.NoticesPerRun, 120, 30), Assert.Single(result.Outcomes[1].Cuts));
    }

    [Fact]
    public async Task AFloodOfNoticesIsStoppedSayingWhyAndTheStateIsUnknown()
    {
        var chain = Chain("CREATE TABLE t (x int);\nDO $$BEGIN INSERT INTO t VALUES (1); FOR i IN 1..10000000 LOOP RAISE NOTICE 'n%', i; END LOOP; END$$;");

        var result = await RunAsync(chain, 0, null, new ResultLimits(MaxNoticesPerStatement: 50));

        var flood = result.Outcomes[1];
        Assert.Equal("54000", flood.Error?.SqlState);
        Assert.Contains("more than 10,000 notices", flood.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(50, flood.Notices.Count);
        Assert.Contains(flood.Cuts, c => c.Kind == ResultCutKind.NoticesPerStatement && c.Count >= 9_950);
        Assert.True(flood.Duration < TimeSpan.FromSeconds(20), "stopped long before the statement timeout");
    }

    [Fact]
    public async Task AHugeValueIsCutBeforeItIsReadAndTheRunsBytesBoundTheRows()
    {
        var chain = Chain("SELECT repeat('é', 20000000) AS big, 'small' AS small;\nSELECT repeat('x', 1000) FROM generate_series(1, 500);");

        var result = await RunAsync(chain, 0, null, new ResultLimits(MaxValueBytes: 1001, MaxBytes: 100_000));

        Assert.True(result.Succeeded, Describe(result));
        var big = result.Outcomes[0].Results[0].Rows[0];
        Assert.Equal(new string('é', 500) + "…", big[0]);
        Assert.Equal("small", big[1]);
        Assert.Contains(new ResultCut(ResultCutKind.Values, 1001, 1), result.Outcomes[0].Cuts);
        var rows = result.Outcomes[1].Results[0];
        Assert.True(rows.Truncated);
        Assert.InRange(rows.Rows.Count, 90, 99);
        Assert.Contains(result.Outcomes[1].Cuts, c => c.Kind == ResultCutKind.Bytes);
    }

    [Fact]
    public async Task ATableGrownPastThePlansStorageStopsWithDatabaseFullWithinTenPercent()
    {
        var limits = Limits with { StorageMegabytes = 512, StatementTimeout = TimeSpan.FromSeconds(120) };
        var guard = new InstanceStorageGuard(_runtime, NullLogger<InstanceStorageGuard>.Instance);
        var executor = new RunExecutor(_runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System, storageGuard: guard);
        var chain = Chain("CREATE TABLE t (id bigint, filler text);\nINSERT INTO t SELECT g, md5(g::text) || md5((g + 1)::text) FROM (SELECT generate_series(1, 100000000) AS g) AS streamed;");

        var result = await executor.RunAsync(new ChainRun(_instance, limits, chain, 0, 2, null, new ResultLimits(), EveryTail), null, CancellationToken.None);

        var full = result.Outcomes[1];
        Assert.Equal("53100", full.Error?.SqlState);
        Assert.Contains("Your database is full", full.Error!.Message, StringComparison.Ordinal);
        Assert.Null(result.FinalState);
        var grown = _runtime.DiskBytes(_instance, dataOnly: true);
        output.WriteLine($"stopped at {full.Error.Message}; the instance takes {grown / (1024 * 1024)} MB after the run");
        Assert.InRange(grown, 0, 512L * 1024 * 1024 * 11 / 10);
    }

    [RootFact]
    public async Task AnInstanceRunsInAControlGroupWithThePlansMemoryAndCpu()
    {
        var cgroups = InstanceCgroups.Detect(NullLogger.Instance);
        Assert.NotNull(cgroups);
        var runtime = new LocalInstanceRuntime(_runtime.Root, _instances.Binaries, OsUser.ForPostgres(null), _runtime.Layers, _engine,
            NullLogger<LocalInstanceRuntime>.Instance, cgroups);
        var instance = Guid.NewGuid();
        try
        {
            await runtime.CreateAsync(instance, Limits with { Memory = "160Mi", Cpu = "500m" }, CancellationToken.None);
            var executor = new RunExecutor(runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System);
            var chain = Chain("SELECT 1;\nSELECT length(string_agg(repeat('x', 1000000), '')) FROM generate_series(1, 1000);");

            var result = await executor.RunAsync(new ChainRun(instance, Limits with { Memory = "160Mi", Cpu = "500m" }, chain, 0, 2, null, new ResultLimits(), EveryTail), null, CancellationToken.None);

            // The postmaster is in the instance's group, under the plan's memory, so every backend it forks is too
            // (the background processes it forked while starting may have come before the group).
            var unified = File.Exists("/sys/fs/cgroup/cgroup.controllers");
            var group = InstanceCgroups.Group(unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory", instance);
            var postmaster = File.ReadLines(Path.Combine(_runtime.Root, instance.ToString("N"), "pgdata", "postmaster.pid")).First();
            Assert.Contains(postmaster, File.ReadAllLines(Path.Combine(group, "cgroup.procs")));
            Assert.Equal((160L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
                File.ReadAllText(Path.Combine(group, unified ? "memory.max" : "memory.limit_in_bytes")).Trim());
            // A gigabyte in one backend cannot fit in 160Mi: the statement fails, the server and the app do not.
            Assert.Equal(StatementStatus.Error, result.Outcomes[1].Status);
            Assert.True(result.Outcomes[1].ChangedState);
        }
        finally
        {
            await runtime.DeleteAsync(instance, CancellationToken.None);
        }
    }

    [Fact]
    public async Task TheSchemaIgnoresTheStudentsShadowCatalogAndSearchPath()
    {
        var chain = Chain("""
            CREATE TABLE real_one (id int, name text);
            CREATE VIEW pg_class AS SELECT g AS oid, 'fake' AS relname FROM generate_series(1, 100000000) g;
            CREATE FUNCTION format_type(oid, int) RETURNS text LANGUAGE sql AS 'SELECT pg_catalog.pg_sleep(60)::text';
            ALTER ROLE CURRENT_USER SET search_path = public, pg_catalog;
            ALTER DATABASE workspace SET statement_timeout = 0;
            """);
        var made = await RunAsync(chain, 0, null);
        Assert.True(made.Succeeded, Describe(made));

        var schema = await new NpgsqlSchemaReader().ReadAsync(await _runtime.StartAsync(_instance, Limits, CancellationToken.None), CancellationToken.None);

        var table = Assert.Single(schema.Relations, r => r.Name == "real_one");
        Assert.Equal(["id integer", "name text"], table.Columns.Select(c => $"{c.Name} {c.Type}"));
    }

    private async Task<RunResult> RunAsync(AnalyzedChain chain, int headStart, ChainKey? state, ResultLimits? limits = null) =>
        await _executor.RunAsync(new ChainRun(_instance, Limits, chain, headStart, chain.Statements.Count, state, limits ?? new ResultLimits(), EveryTail), null, CancellationToken.None);

    private AnalyzedChain Chain(string script) => ChainAnalysis.Analyze([new SqlSource("script.sql", script)], _engine);

    private static string Describe(RunResult result) =>
        string.Join("\n", result.Outcomes.Select(o => $"{o.Index} {o.Status} {o.CommandTag} {o.Error?.SqlState} {o.Error?.Message}"));
}
