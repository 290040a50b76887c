using Taidon.Core.Common;

namespace Taidon.Tests.Core.Common;

public sealed class CsvTests
{
    [Theory]
    [InlineData("=1+2", "'=1+2")]
    [InlineData("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\t=1", "'\t=1")]
    [InlineData("\r=1", "\"'\r=1\"")]
    [InlineData("=HYPERLINK(\"http://x\"), go", "\"'=HYPERLINK(\"\"http://x\"\"), go\"")]
    public void ACellASpreadsheetWouldRunAsAFormulaStartsWithAQuote(string value, string cell) =>
        Assert.Equal(cell, Csv.Cell(value));

    [Theory]
    [InlineData("-5")]
    [InlineData("+3.25")]
    [InlineData("-1.5e-3")]
    [InlineData("plain")]
    [InlineData("a=b")]
    public void NumbersAndOrdinaryTextStayAsTheyAre(string value) => Assert.Equal(value, Csv.Cell(value));

    [Fact]
    public void NullIsAnEmptyFieldAndEmptyTextAQuotedOne()
    {
        Assert.Equal("", Csv.Cell(null));
        Assert.Equal("\"\"", Csv.Cell(""));
    }

    [Fact]
    public void CommasQuotesAndLineBreaksAreQuoted() =>
        Assert.Equal("\"x,y\",\"say \"\"hi\"\"\",\"line\nbreak\",\r\n", Csv.Line(["x,y", "say \"hi\"", "line\nbreak", null]));
}
