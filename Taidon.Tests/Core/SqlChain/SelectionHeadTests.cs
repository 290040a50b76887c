using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.SqlChain;

public sealed class SelectionHeadTests
{
    private static readonly IReadOnlyList<SqlStatement> Statements = SqlSplitter.Split(
    [
        new SqlSource("init.sql", "CREATE TABLE t (id int);"),
        new SqlSource("run.sql", "SELECT 1;\nSELECT 2; SELECT 3;\n\nSELECT\n  4;\n"),
    ]).Statements;

    [Theory]
    [InlineData(1, 3, 1)] // inside SELECT 1
    [InlineData(2, 1, 2)] // at the start of SELECT 2
    [InlineData(2, 13, 3)] // inside SELECT 3
    [InlineData(5, 2, 4)] // inside the SELECT 4 spread over two lines
    [InlineData(3, 1, 3)] // on the blank line after SELECT 3: the statement just before
    [InlineData(4, 1, 4)] // at the start of SELECT 4
    public void TheCursorNamesTheStatementUnderItOrJustBefore(int line, int column, int expected) =>
        Assert.Equal((expected, expected + 1), SelectionHead.Find(Statements, "run.sql", new(line, column), new(line, column)));

    [Fact]
    public void ASelectionNamesEveryStatementItTouchesInThatFileOnly()
    {
        Assert.Equal((2, 4), SelectionHead.Find(Statements, "run.sql", new(2, 3), new(2, 12)));
        Assert.Equal((1, 5), SelectionHead.Find(Statements, "run.sql", new(6, 1), new(1, 1)));
        Assert.Null(SelectionHead.Find(Statements, "other.sql", new(1, 1), new(1, 1)));
    }
}
