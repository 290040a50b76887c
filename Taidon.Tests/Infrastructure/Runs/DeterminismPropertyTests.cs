using System.Diagnostics;
using System.Globalization;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.Sql;
using Taidon.Tests.Support;
using Xunit.Abstractions;

namespace Taidon.Tests.Infrastructure.Runs;

/// <summary>
/// The determinism rule as a property: random chains with failing statements, DO and CALL that commit,
/// savepoints and the student's own transactions, sequences moved in functions, failed inserts, invalid
/// indexes, set_config and temporary tables, run with reruns and edits on one instance that keeps its state,
/// layers and no-op facts between runs. After each run, every statement it executed answers as in a clean
/// replay of the chain (one session from the base state), and when the run names the state it left, the
/// instance's dump equals the clean replay's. <c>TAIDON_DETERMINISM_CHAINS</c> sets how many chains (12 by
/// default; the 1,000 with <c>TAIDON_DETERMINISM_CHAINS=1000</c>), <c>TAIDON_DETERMINISM_SEED</c> the first seed (1), <c>TAIDON_DETERMINISM_PROGRESS</c> a file
/// that gets a line per chain.
/// </summary>
public sealed class DeterminismPropertyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Prefix = """
        CREATE TABLE t1 (id serial PRIMARY KEY, v int CHECK (v < 1000));
        CREATE SEQUENCE s;
        CREATE FUNCTION bump() RETURNS bigint LANGUAGE sql AS 'SELECT pg_catalog.nextval(''s'')';
        CREATE PROCEDURE commit_then_fail() LANGUAGE plpgsql AS $$BEGIN INSERT INTO t1(v) VALUES (1); COMMIT; RAISE EXCEPTION 'boom'; END$$;
        CREATE PROCEDURE commit_twice() LANGUAGE plpgsql AS $$BEGIN INSERT INTO t1(v) VALUES (2); COMMIT; INSERT INTO t1(v) VALUES (3); COMMIT; END$$;
        """;

    private static readonly InstanceLimits Limits = new(MaxConnections: 6, StatementTimeout: TimeSpan.FromSeconds(30));
    private static readonly LayerPolicy LayersOften = new(TimeSpan.FromMilliseconds(5), TimeSpan.Zero, TimeSpan.FromMilliseconds(100));

    private readonly LocalInstances _instances = LocalInstances.Open(Directory.Exists("/dev/shm") ? "/dev/shm" : null);
    private readonly HashSet<(ChainKey, ChainKey)> _noOps = [];
    private Guid _student;
    private Guid _reference;
    private LocalInstanceRuntime _runtime = null!;
    private RunExecutor _executor = null!;
    private EngineIdentity _engine = null!;

    public async Task InitializeAsync()
    {
        (_runtime, _engine) = (_instances.Runtime, _instances.Engine);
        _executor = new RunExecutor(_runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System);
        _student = await _instances.CreateAsync(Limits);
        _reference = await _instances.CreateAsync(Limits);
    }

    public async Task DisposeAsync() => await _instances.DisposeAsync();

    [Fact]
    public async Task RandomChainsWithRerunsAndEditsLeaveNoDrift()
    {
        var chains = int.TryParse(Environment.GetEnvironmentVariable("TAIDON_DETERMINISM_CHAINS"), CultureInfo.InvariantCulture, out var n) ? n : 12;
        var first = int.TryParse(Environment.GetEnvironmentVariable("TAIDON_DETERMINISM_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 1;
        var watch = Stopwatch.StartNew();
        ChainKey? state = null;
        var runs = 0;
        var compared = 0;
        var restoredAfterError = 0;
        var afterError = 0;
        var previousFailed = false;
        for (var seed = first; seed < first + chains; seed++)
        {
            var random = new Random(seed);
            var body = Enumerable.Range(0, random.Next(3, 10)).SelectMany(_ => Statement(random)).ToList();
            for (var edit = 0; edit < 4; edit++)
            {
                var chain = Analyze(body);
                var headStart = random.Next(0, chain.Statements.Count);
                var result = await _executor.RunAsync(new ChainRun(_student, Limits, chain, headStart, chain.Statements.Count, state, new ResultLimits(), LayersOften), null, CancellationToken.None);
                runs++;
                if (previousFailed)
                {
                    afterError++;
                    restoredAfterError += result.Plan.Start == RunStart.RestoreLayer ? 1 : 0;
                }

                previousFailed = !result.Succeeded;
                foreach (var noOp in result.NoOps)
                {
                    _noOps.Add(noOp);
                }

                compared += await AssertLikeACleanReplayAsync(seed, edit, body, chain, result);
                state = result.FinalState;
                Mutate(random, body);
            }

            // A long run (the 1,000 chains) says how far it got, for whoever watches it.
            if (Environment.GetEnvironmentVariable("TAIDON_DETERMINISM_PROGRESS") is { Length: > 0 } progress)
            {
                await File.AppendAllTextAsync(progress, $"seed {seed}: no drift ({runs} runs, {compared} dumps compared so far)\n");
            }
        }

        output.WriteLine($"{chains} chains, {runs} runs, {compared} dumps compared, {afterError} runs after a failed one ({restoredAfterError} restored), {watch.Elapsed.TotalSeconds:0} s");
    }

    /// <summary>Replays the chain from the base state in one session on the reference instance and compares; returns 1 when the dumps were compared.</summary>
    private async Task<int> AssertLikeACleanReplayAsync(int seed, int edit, List<string> body, AnalyzedChain chain, RunResult result)
    {
        await _runtime.RestoreAsync(_reference, _engine.Root, Limits, CancellationToken.None);
        var connection = await _runtime.StartAsync(_reference, Limits, CancellationToken.None);
        var replay = new List<StatementOutcome>();
        await using (var session = await new NpgsqlSqlSessionFactory().OpenAsync(connection, CancellationToken.None))
        {
            var budget = new ResultBudget(new ResultLimits());
            foreach (var statement in chain.Statements.Take(result.Plan.HeadEnd))
            {
                var outcome = await session.ExecuteAsync(statement, budget, Limits.EffectiveStatementTimeout, CancellationToken.None);
                replay.Add(outcome);
                if (outcome.Status == StatementStatus.Error)
                {
                    break;
                }
            }

            await session.RollbackOpenTransactionAsync(CancellationToken.None);
        }

        var where = $"seed {seed}, edit {edit}, plan '{result.Plan.Describe()}' from {result.Plan.From}, head {result.Plan.HeadStart}, final {result.FinalState?.Short}\n"
            + string.Join("\n", chain.Statements.Select(s => $"{s.Index}: {chain.Keys[s.Index].Short} {result.Outcomes.ElementAtOrDefault(s.Index)?.Status} changed={result.Outcomes.ElementAtOrDefault(s.Index)?.ChangedState} {s.Text}"));
        foreach (var outcome in result.Outcomes.Where(o => o.Status is StatementStatus.Executed or StatementStatus.Error))
        {
            Assert.True(outcome.Index < replay.Count, $"statement {outcome.Index} ran, but a clean replay stops before it; {where}");
            Assert.True(Answer(outcome) == Answer(replay[outcome.Index]),
                $"statement {outcome.Index} answered '{Answer(outcome)}', a clean replay '{Answer(replay[outcome.Index])}'; {where}");
        }

        if (result.FinalState is not { } final)
        {
            return 0;
        }

        // Keyed again with what this run learned (statements it saw change nothing), as the next run keys it.
        Assert.True(Analyze(body).Keys.Contains(final), $"the final state is not a key of the chain; {where}");
        Assert.Equal(await DumpAsync(_reference), await DumpAsync(_student));
        return 1;
    }

    private static string Answer(StatementOutcome outcome) => outcome.Status == StatementStatus.Error
        ? "error " + outcome.Error!.SqlState
        : outcome.CommandTag + " " + string.Join(";", outcome.Results.SelectMany(r => r.Rows).Select(row => string.Join(",", row)));

    private async Task<string> DumpAsync(Guid instance)
    {
        var connection = await _runtime.StartAsync(instance, Limits, CancellationToken.None);
        var start = new ProcessStartInfo(Path.Combine(_instances.Binaries.BinDirectory, "pg_dump"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["PGPASSWORD"] = connection.Password },
        };
        foreach (var argument in new[] { "-h", connection.Host, "-p", connection.Port.ToString(CultureInfo.InvariantCulture), "-U", connection.User, "-d", connection.Database, "--no-owner", "--no-privileges" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var dump = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, errors);

        // pg_dump guards its output with a random key on every run (\restrict): not part of the state.
        return string.Join('\n', dump.Split('\n').Where(line => !line.StartsWith("\\restrict", StringComparison.Ordinal) && !line.StartsWith("\\unrestrict", StringComparison.Ordinal)));
    }

    private AnalyzedChain Analyze(List<string> body) =>
        ChainAnalysis.Analyze([new SqlSource("init/01.sql", Prefix), new SqlSource("test/01.sql", string.Join("\n", body))], _engine,
            (before, after) => _noOps.Contains((before, after)));

    /// <summary>An edit: a statement changed, added or removed (the init script stays).</summary>
    private static void Mutate(Random random, List<string> body)
    {
        var at = random.Next(0, body.Count + 1);
        switch (random.Next(3))
        {
            case 0 when body.Count > 1 && at < body.Count:
                body.RemoveAt(at);
                break;
            case 1 when at < body.Count:
                body[at] = Statement(random)[0];
                break;
            default:
                body.InsertRange(at, Statement(random));
                break;
        }
    }

    /// <summary>One step of a student's script: usually one statement, sometimes a transaction of a few.</summary>
    private static List<string> Statement(Random random)
    {
        var r = random.Next(0, 40).ToString(CultureInfo.InvariantCulture);
        // About one step in five can fail; the rest build state that the failures must not disturb.
        return random.Next(40) switch
        {
            < 8 or 38 or 39 => [$"INSERT INTO t1(v) VALUES ({r});"],
            8 or 9 => [$"UPDATE t1 SET v = v + 1 WHERE id % {random.Next(1, 4)} = 0;"],
            10 => [$"DELETE FROM t1 WHERE v = {r};"],
            < 15 => ["SELECT count(*), sum(v) FROM t1;"],
            15 or 16 => ["SELECT bump();"],
            17 => ["SELECT currval('s');"],
            18 => ["INSERT INTO t1(v) VALUES (5000);"],
            19 => ["CALL commit_then_fail();"],
            20 or 21 => ["CALL commit_twice();"],
            22 => [$"DO $$BEGIN INSERT INTO t1(v) VALUES ({r}); COMMIT; RAISE EXCEPTION 'boom'; END$$;"],
            23 => ["SELEC 1;"],
            24 => ["SELECT nosuch FROM t1;"],
            25 => ["SELECT 1 / (v - v) FROM t1;"],
            26 => [$"CREATE UNIQUE INDEX CONCURRENTLY t1_v_{r} ON t1 (v);"],
            27 or 28 => [$"SELECT set_config('taidon.mark', '{r}', false);"],
            29 or 30 => [$"SET taidon.mark = '{r}';"],
            31 or 32 => ["SELECT current_setting('taidon.mark', true), currval('t1_id_seq');"],
            33 or 34 => ["BEGIN;", $"INSERT INTO t1(v) VALUES ({r});", "SAVEPOINT a;", "INSERT INTO t1(v) VALUES (7000);", "ROLLBACK TO a;", "COMMIT;"],
            35 => ["BEGIN;", $"UPDATE t1 SET v = {r};", random.Next(2) == 0 ? "ROLLBACK;" : "COMMIT;"],
            36 => ["CREATE TEMP TABLE IF NOT EXISTS tmp AS SELECT * FROM t1;"],
            _ => ["SELECT count(*) FROM tmp;"],
        };
    }
}
