using System.Text;
using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.SqlChain;

public sealed class ProjectChainTests
{
    private static readonly string[] Project =
    [
        "bench/slow_query.sql", "test/02_totals.sql", "seed/10_orders.sql", "init/02_orders.sql", "README.md",
        "init/01_customers.sql", "seed/02_customers.sql", "test/01_keys.sql", "init/sub/03_views.sql", "init/notes.txt",
        "scratch/x.sql", "top.sql", "init/04_INDEX.SQL",
    ];

    [Fact]
    public void ScriptsAreOrderedByFolderThenByOrdinalPath()
    {
        Assert.Equal(
            ["init/01_customers.sql", "init/02_orders.sql", "init/04_INDEX.SQL", "init/sub/03_views.sql", "seed/02_customers.sql", "seed/10_orders.sql",
             "test/01_keys.sql", "test/02_totals.sql", "bench/slow_query.sql"],
            ProjectChain.Order(Project));
    }

    [Fact]
    public void ATestRunIncludesInitAndSeedThenTheTest()
    {
        Assert.Equal(
            ["init/01_customers.sql", "init/02_orders.sql", "init/04_INDEX.SQL", "init/sub/03_views.sql", "seed/02_customers.sql", "seed/10_orders.sql", "test/02_totals.sql"],
            ProjectChain.ScriptsForRun(Project, "test/02_totals.sql"));
    }

    [Fact]
    public void RunningAnInitScriptRunsTheChainUpToIt()
    {
        Assert.Equal(["init/01_customers.sql", "init/02_orders.sql"], ProjectChain.ScriptsForRun(Project, "init/02_orders.sql"));
    }

    [Fact]
    public void AScriptOutsideTheChainIsRefusedWithTheReason()
    {
        var error = Assert.Throws<ArgumentException>(() => ProjectChain.ScriptsForRun(Project, "scratch/x.sql"));

        Assert.Contains("init/, seed/, test/, bench/", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FilesSplitInOrderWithTheirPathsAndAByteOrderMarkIsIgnored()
    {
        var script = ProjectChain.Split(
        [
            new ProjectFile("init/01.sql", Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("CREATE TABLE t (id int);")).ToArray()),
            new ProjectFile("seed/01.sql", Encoding.UTF8.GetBytes("INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);")),
        ]);

        Assert.True(script.IsValid);
        Assert.Equal(["init/01.sql", "seed/01.sql", "seed/01.sql"], script.Statements.Select(s => s.Span.File));
        Assert.Equal([0, 1, 2], script.Statements.Select(s => s.Index));
        Assert.Equal("CREATE TABLE t (id int);", script.Statements[0].Text);
    }

    [Fact]
    public void AFileThatIsNotUtf8IsAClearProblem()
    {
        var latin1 = Encoding.Latin1.GetBytes("SELECT 1;\nSELECT 'café';");

        var script = ProjectChain.Split([new ProjectFile("seed/legacy.sql", latin1)]);

        var problem = Assert.Single(script.Problems);
        Assert.Equal("seed/legacy.sql", problem.File);
        Assert.Equal(2, problem.Position.Line);
        Assert.Equal(Array.IndexOf(latin1, (byte)0xE9), problem.ByteOffset);
        Assert.Contains("not valid UTF-8", problem.Message, StringComparison.Ordinal);
    }
}
