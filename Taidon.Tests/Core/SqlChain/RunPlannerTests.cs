using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.SqlChain;

/// <summary>The planner's decisions in the situations students produce.</summary>
public sealed class RunPlannerTests
{
    private const string Init = """
        CREATE TABLE customers (id int PRIMARY KEY, name text);
        CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers, total numeric);
        """;

    private const string Seed = """
        INSERT INTO customers VALUES (1, 'Ana'), (2, 'Ben');
        INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20);
        """;

    private const string Exercise = """
        SELECT name, sum(total) FROM customers JOIN orders ON orders.customer = customers.id GROUP BY name;
        UPDATE orders SET total = total * 2;
        """;

    private static readonly EngineIdentity Engine = EngineIdentity.PostgreSql(15);
    private static readonly Func<SqlStatement, TimeSpan> TenMilliseconds = _ => TimeSpan.FromMilliseconds(10);

    private readonly HashSet<ChainKey> _layers = [];

    [Fact]
    public void AFirstRunRestoresTheBaseStateReplaysTheTailAndLayersItsEnd()
    {
        var chain = Chain(Init, Seed, Exercise);

        var plan = Plan(chain, headStart: 4, instance: null);

        Assert.Equal(RunStart.RestoreLayer, plan.Start);
        Assert.Equal(0, plan.From);
        Assert.Equal([0, 1, 2, 3], plan.Replay);
        Assert.Equal([4], plan.Layers);
        Assert.Equal("restored the base state, replayed 4 statements", plan.Describe());
    }

    [Fact]
    public void RerunningUnchangedRestoresTheTailLayerAndReplaysNothing()
    {
        var chain = Chain(Init, Seed, Exercise);
        _layers.Add(chain.Keys[4]);

        // After the first run the instance is past the head, at h_6.
        var plan = Plan(chain, headStart: 4, instance: chain.Keys[6]);

        Assert.Equal(RunStart.RestoreLayer, plan.Start);
        Assert.Equal(4, plan.From);
        Assert.Empty(plan.Replay);
        Assert.Empty(plan.Layers);
        Assert.Equal($"restored layer {chain.Keys[4].Short}, replayed 0 statements", plan.Describe());
    }

    [Fact]
    public void RunningAnAppendedStatementUnderTheCursorIsHot()
    {
        var chain = Chain(Init, Seed, Exercise + "\nDELETE FROM orders WHERE total > 30;");

        // The instance ran the exercise up to its last statement before the new one.
        var plan = Plan(chain, headStart: 6, headEnd: 7, instance: chain.Keys[6]);

        Assert.Equal(RunStart.Hot, plan.Start);
        Assert.Empty(plan.Replay);
        Assert.Equal("hot", plan.Describe());
    }

    [Fact]
    public void EditingTheFirstTableInvalidatesEverythingAfterIt()
    {
        var original = Chain(Init, Seed, Exercise);
        _layers.Add(original.Keys[4]);
        var edited = Chain(Init.Replace("name text", "name varchar(80)", StringComparison.Ordinal), Seed, Exercise);

        var plan = Plan(edited, headStart: 4, instance: original.Keys[6]);

        Assert.Equal(RunStart.RestoreLayer, plan.Start);
        Assert.Equal(0, plan.From);
        Assert.Equal(4, plan.ReplayCount);
        Assert.Equal([4], plan.Layers);
    }

    [Fact]
    public void EditingTheSeedKeepsTheInitPrefixFromItsLayer()
    {
        var original = Chain(Init, Seed, Exercise);
        _layers.Add(original.Keys[2]);
        _layers.Add(original.Keys[4]);
        var edited = Chain(Init, Seed.Replace("'Ben'", "'Bea'", StringComparison.Ordinal), Exercise);

        var plan = Plan(edited, headStart: 4, instance: original.Keys[6]);

        Assert.Equal(2, plan.From);
        Assert.Equal([2, 3], plan.Replay);
    }

    [Fact]
    public void RunningASelectionInTheMiddleRestoresTheStateBeforeIt()
    {
        var chain = Chain(Init, Seed, Exercise + "\nSELECT count(*) FROM orders;");
        _layers.Add(chain.Keys[4]);

        // The student selects only the UPDATE (statement 5): its tail includes the SELECT before it.
        var plan = Plan(chain, headStart: 5, headEnd: 6, instance: chain.Keys[7]);

        Assert.Equal(RunStart.RestoreLayer, plan.Start);
        Assert.Equal(4, plan.From);
        Assert.Equal([4], plan.Replay);
        Assert.Empty(plan.Layers);
    }

    [Fact]
    public void AnInstanceEarlierOnTheChainContinuesInsteadOfRestoring()
    {
        var chain = Chain(Init, Seed, Exercise);
        _layers.Add(chain.Keys[2]);

        // The instance sits at h_3 (after the first seed statement); the layer at h_2 is older.
        var plan = Plan(chain, headStart: 4, instance: chain.Keys[3]);

        Assert.Equal(RunStart.ContinueOnInstance, plan.Start);
        Assert.Equal([3], plan.Replay);
        Assert.Equal("continued on the instance, replayed 1 statement", plan.Describe());
    }

    [Fact]
    public void ALongTailIsLayeredByReplayCostNotAfterEveryStatement()
    {
        var inserts = string.Join("\n", Enumerable.Range(1, 100).Select(i => $"INSERT INTO customers VALUES ({i + 2}, 'c{i}');"));
        var chain = Chain(Init, inserts, "SELECT count(*) FROM customers;");

        // 10 ms a statement and a 200 ms rewind budget: a layer every 20 statements; the last two (20 ms)
        // are below the 50 ms a layer must save, so the tail's end gets none.
        var plan = RunPlanner.Plan(new RunRequest(chain.Statements, chain.Keys, 102, 103, null, _layers.Contains, TenMilliseconds,
            new LayerPolicy(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100))));

        Assert.Equal([20, 40, 60, 80, 100], plan.Layers);
        Assert.Equal(TimeSpan.FromMilliseconds(1020), plan.ReplayCost);
    }

    [Fact]
    public void ACheapTailIsNotWorthALayer()
    {
        var chain = Chain("CREATE TABLE t (id int);", "SELECT 1;");

        var plan = RunPlanner.Plan(new RunRequest(chain.Statements, chain.Keys, 1, 2, null, _layers.Contains, _ => TimeSpan.FromMilliseconds(1), LayerPolicy.Default));

        Assert.Empty(plan.Layers);
    }

    [Fact]
    public void NoLayerIsTakenInsideATransactionBlock()
    {
        var chain = Chain(Init, "BEGIN;\nINSERT INTO customers VALUES (1, 'a');\nINSERT INTO customers VALUES (2, 'b');\nCOMMIT;", "SELECT 1;");

        var plan = RunPlanner.Plan(new RunRequest(chain.Statements, chain.Keys, 6, 7, null, _layers.Contains, TenMilliseconds,
            new LayerPolicy(TimeSpan.FromMilliseconds(15), TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(100))));

        Assert.DoesNotContain(3, plan.Layers);
        Assert.DoesNotContain(4, plan.Layers);
        Assert.DoesNotContain(5, plan.Layers);
        Assert.Contains(6, plan.Layers);
    }

    [Fact]
    public void SettingsOfTheRestoredPrefixAreAppliedAgainButNotRolledBackOnes()
    {
        var chain = Chain(
            "CREATE SCHEMA s;\nSET search_path = s;\nBEGIN;\nSET datestyle = 'German';\nROLLBACK;\nCREATE TABLE t (id int);",
            "SELECT 1;");
        _layers.Add(chain.Keys[6]);

        var plan = Plan(chain, headStart: 6, headEnd: 7, instance: null);

        Assert.Equal(6, plan.From);
        Assert.Equal([1], plan.SessionStatements);
    }

    [Fact]
    public void ReadOnlyStatementsDoNotMoveTheStateSoTheCacheStillHits()
    {
        var first = Chain(Init, Seed, "SELECT * FROM orders;");
        _layers.Add(first.Keys[4]);
        var noOp = new HashSet<(ChainKey, ChainKey)> { (first.Keys[4], first.Keys[5]) };
        var statements = SqlSplitter.Split($"{Init}\n{Seed}\nSELECT * FROM orders;\nSELECT count(*) FROM orders;").Statements;
        var keys = ChainKeys.Compute(Engine, statements, (before, after) => noOp.Contains((before, after)));

        // The instance ran the first SELECT, which changed nothing: it is still at h_4 = h_5.
        var plan = RunPlanner.Plan(new RunRequest(statements, keys, 5, 6, first.Keys[4], _layers.Contains));

        Assert.Equal(RunStart.Hot, plan.Start);
    }

    [Fact]
    public void RerunningAHeadThatOnlyChangedDataIsHotWithItsStatementsCached()
    {
        var chain = Chain(Init, Seed, "INSERT INTO customers VALUES (3, 'Cy');\nUPDATE orders SET total = 0;");
        var recorded = chain.Keys.Skip(1).ToHashSet();

        var plan = Plan(chain, headStart: 4, instance: chain.Keys[6], hasOutcome: recorded.Contains);

        Assert.Equal(RunStart.Hot, plan.Start);
        Assert.Equal(6, plan.From);
        Assert.Equal(2, plan.HeadCached);
        Assert.Equal("hot, 2 head statements cached", plan.Describe());
    }

    [Fact]
    public void TheStartReachesIntoTheHeadOnlyUpToTheFirstStatementThatMustRunToShowSomething()
    {
        // The SELECT is known to change nothing: its key repeats, and it must run to show its rows.
        var files = new[] { new SqlSource("init.sql", Init), new SqlSource("run.sql", "INSERT INTO customers VALUES (3, 'Cy');\nSELECT * FROM customers;\nDELETE FROM orders;") };
        var statements = SqlSplitter.Split(files).Statements;
        var plain = ChainKeys.Compute(Engine, statements);
        var seeThrough = ChainKeys.Compute(Engine, statements, (before, after) => before == plain[3] && after == plain[4]);
        _layers.Add(seeThrough[3]);
        _layers.Add(seeThrough[5]);

        var plan = RunPlanner.Plan(new RunRequest(statements, seeThrough, 2, 5, null, _layers.Contains, TenMilliseconds, HasOutcome: _ => true));

        Assert.Equal(RunStart.RestoreLayer, plan.Start);
        Assert.Equal(3, plan.From);
        Assert.Equal(1, plan.HeadCached);
        Assert.Empty(plan.Replay);
    }

    [Fact]
    public void TheStartReachesOverACommittedBlockOfTheHeadToALayerAfterIt()
    {
        // A student's script loads in a transaction, then edits below it: the layer after COMMIT is where a rerun starts.
        var chain = Chain("BEGIN;\nCREATE TABLE big (id int);\nINSERT INTO big SELECT generate_series(1, 100000);\nCOMMIT;\nSELECT count(*) FROM big;");
        _layers.Add(chain.Keys[2]);
        _layers.Add(chain.Keys[4]);

        var plan = Plan(chain, headStart: 0, instance: null, hasOutcome: _ => true);

        // Not inside the block (keys[2] is mid-transaction), but after it.
        Assert.Equal(RunStart.RestoreLayer, plan.Start);
        Assert.Equal(4, plan.From);
        Assert.Equal(4, plan.HeadCached);
    }

    [Fact]
    public void AnInstanceWhereTheScriptStartsRestoresALayerFurtherOnWhenThatSavesMoreThanARestoreCosts()
    {
        // A second student's instance is in the base state; the first student's run left a layer after the costly INSERT.
        var chain = Chain("CREATE TABLE big (id int);\nINSERT INTO big SELECT generate_series(1, 1000000);\nSELECT count(*) FROM big;");
        _layers.Add(chain.Keys[2]);
        TimeSpan Measured(SqlStatement s) => s.Index == 1 ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(5);

        var costly = RunPlanner.Plan(new RunRequest(chain.Statements, chain.Keys, 0, 3, chain.Keys[0], _layers.Contains, Measured, HasOutcome: _ => true));
        var cheap = RunPlanner.Plan(new RunRequest(chain.Statements, chain.Keys, 0, 3, chain.Keys[0], _layers.Contains, TenMilliseconds, HasOutcome: _ => true));

        Assert.Equal((RunStart.RestoreLayer, 2), (costly.Start, costly.From));
        Assert.Equal((RunStart.Hot, 0), (cheap.Start, cheap.From));
    }

    [Fact]
    public void AHeadThatMakesATemporaryObjectRunsAgainBecauseTheSessionLosesIt()
    {
        var chain = Chain(Init, Seed, "CREATE TEMP TABLE picked AS SELECT * FROM customers;\nSELECT count(*) FROM picked;");
        _layers.Add(chain.Keys[4]);

        var plan = Plan(chain, headStart: 4, instance: chain.Keys[5], hasOutcome: _ => true);

        Assert.Equal(0, plan.HeadCached);
        Assert.Equal(4, plan.From);
    }

    [Fact]
    public void WithoutARecordedOutcomeTheHeadRunsAsAsked()
    {
        var chain = Chain(Init, Seed, "INSERT INTO customers VALUES (3, 'Cy');");
        _layers.Add(chain.Keys[5]);

        var plan = Plan(chain, headStart: 4, instance: chain.Keys[5], hasOutcome: _ => false);

        // The layer after the INSERT is not used: the INSERT's outcome is unknown, so it runs again after the replay.
        Assert.Equal(0, plan.From);
        Assert.Equal(0, plan.HeadCached);
        Assert.Equal(4, plan.ReplayCount);
    }

    [Fact]
    public void AHeadOutsideTheChainIsRefused()
    {
        var chain = Chain("SELECT 1;");

        Assert.Throws<ArgumentOutOfRangeException>(() => Plan(chain, headStart: 1, headEnd: 3, instance: null));
    }

    private RunPlan Plan(
        (IReadOnlyList<SqlStatement> Statements, IReadOnlyList<ChainKey> Keys) chain, int headStart, ChainKey? instance, int? headEnd = null, Func<ChainKey, bool>? hasOutcome = null) =>
        RunPlanner.Plan(new RunRequest(chain.Statements, chain.Keys, headStart, headEnd ?? chain.Statements.Count, instance, _layers.Contains, TenMilliseconds,
            new LayerPolicy(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(100)), hasOutcome));

    private static (IReadOnlyList<SqlStatement> Statements, IReadOnlyList<ChainKey> Keys) Chain(params string[] scripts)
    {
        var files = scripts.Select((s, i) => new SqlSource($"script{i}.sql", s)).ToList();
        var statements = SqlSplitter.Split(files).Statements;
        return (statements, ChainKeys.Compute(Engine, statements));
    }
}
