using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.Runs;

/// <summary>Where a student edits: the first statement that changed since the script's last run, per account and script.</summary>
public sealed class ScriptEditsTests
{
    private static readonly EngineIdentity Engine = EngineIdentity.PostgreSql(15);

    [Fact]
    public void TheEditPointIsTheFirstChangedStatementOfThatAccountsScript()
    {
        var edits = new ScriptEdits();
        var before = Keys("CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nSELECT * FROM t;\nSELECT 1;");
        var after = Keys("CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nSELECT id FROM t;\nSELECT 1;");

        Assert.Null(edits.Learn("ann", "test/01.sql", before));
        Assert.Equal(2, edits.Learn("ann", "test/01.sql", after));

        // Another account, or another script of the same account, learns on its own.
        Assert.Null(edits.Learn("bob", "test/01.sql", after));
        Assert.Null(edits.Learn("ann", "test/02.sql", before));
    }

    [Fact]
    public void NoEditPointWhenNothingChangedTheFirstStatementChangedOrStatementsWereOnlyAdded()
    {
        var edits = new ScriptEdits();
        var two = Keys("CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);");
        edits.Learn("ann", "s.sql", two);

        Assert.Null(edits.Learn("ann", "s.sql", two));
        Assert.Null(edits.Learn("ann", "s.sql", Keys("CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nSELECT 1;")));
        Assert.Null(edits.Learn("ann", "s.sql", Keys("CREATE TABLE u (id int);\nINSERT INTO u VALUES (1);\nSELECT 1;")));
    }

    [Fact]
    public void TheLayerRuleInsideAScriptWeighsWhatACaptureCosts()
    {
        var policy = LayerPolicy.Default;

        Assert.True(policy.WorthALayer(policy.ScriptRewindBudget, atEndOfTail: false, inScript: true));
        Assert.False(policy.WorthALayer(policy.ScriptRewindBudget, atEndOfTail: false));
        Assert.True(policy.WorthALayer(policy.EditPointCost, atEndOfTail: false, inScript: true, atEditPoint: true));
        Assert.False(policy.WorthALayer(policy.EditPointCost - TimeSpan.FromMilliseconds(1), atEndOfTail: false, inScript: true, atEditPoint: true));

        // Before any capture was measured one is taken to cost CaptureCost; then the next only while captures stay within the share of the statements' time.
        Assert.True(policy.AffordsCapture(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMilliseconds(200)));
        Assert.False(policy.AffordsCapture(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMilliseconds(60)));
        Assert.False(policy.AffordsCapture(TimeSpan.FromMilliseconds(60), TimeSpan.FromMilliseconds(60), TimeSpan.FromMilliseconds(600)));
        Assert.True(policy.AffordsCapture(TimeSpan.FromMilliseconds(60), TimeSpan.FromMilliseconds(60), TimeSpan.FromMilliseconds(1000)));
        Assert.False(LayerPolicy.None.WorthALayer(TimeSpan.FromHours(1), atEndOfTail: true, inScript: true, atEditPoint: true));
    }

    [Fact]
    public void AnIndexAndAnAnalyzeAfterALoadAreWorthALayerBeforeTheExerciseStatements()
    {
        // The script, as measured: after the orders' load (layered), CREATE INDEX 38-42 ms and ANALYZE 80-107 ms.
        var policy = LayerPolicy.Default;

        Assert.True(policy.WorthALayer(TimeSpan.FromMilliseconds(42), atEndOfTail: false, inScript: true, statement: TimeSpan.FromMilliseconds(42)));
        Assert.True(policy.WorthALayer(TimeSpan.FromMilliseconds(38 + 80), atEndOfTail: false, inScript: true, statement: TimeSpan.FromMilliseconds(80)));
    }

    [Fact]
    public void AStepOfALoadGetsALayerButARunOfCheapExerciseStatementsOnlyAtTheBudget()
    {
        // The row-by-row shape, as measured: ANALYZE 44 ms after the layered index, then exercise statements of 16, 2, 3 and 2 ms.
        // Before StepCost the layer landed after the first exercise statement (44 + 16 ms), so every edit of it replayed ANALYZE.
        var policy = LayerPolicy.Default;

        Assert.True(policy.WorthALayer(TimeSpan.FromMilliseconds(44), atEndOfTail: false, inScript: true, statement: TimeSpan.FromMilliseconds(44)));
        Assert.False(policy.WorthALayer(TimeSpan.FromMilliseconds(16 + 2 + 3), atEndOfTail: false, inScript: true, statement: TimeSpan.FromMilliseconds(3)));
        Assert.True(policy.WorthALayer(policy.ScriptRewindBudget, atEndOfTail: false, inScript: true, statement: TimeSpan.FromMilliseconds(2)));

        // Before the script (a course's init and seed) the budget alone decides.
        Assert.False(policy.WorthALayer(TimeSpan.FromMilliseconds(44), atEndOfTail: false, statement: TimeSpan.FromMilliseconds(44)));
        Assert.False(LayerPolicy.None.WorthALayer(TimeSpan.FromMilliseconds(44), atEndOfTail: false, inScript: true, statement: TimeSpan.FromHours(1)));
    }

    private static IReadOnlyList<ChainKey> Keys(string script) => ChainAnalysis.Analyze([new SqlSource("s.sql", script)], Engine).Keys;
}
