using Bunit;
using Taidon.Core.Runs;
using Taidon.Web.Features.Workspace;

namespace Taidon.Tests.Components;

/// <summary>The workspace's parts that need no instance: the guest banner and the result grid.</summary>
public sealed class WorkspaceTests : ComponentTestContext
{
    [Fact]
    public void AGuestIsInvitedToRegisterToKeepTheirWork()
    {
        SignInAs("guest-0123", anonymous: true, "Student");

        var banner = Render<GuestBanner>().Find("[data-testid=guest-banner]");

        Assert.Contains("create an account", banner.TextContent, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("/Account/Register", banner.QuerySelector("a")!.GetAttribute("href"));
    }

    [Fact]
    public void ARegisteredStudentSeesNoGuestBanner()
    {
        SignInAs("ana@example.org", anonymous: false, "Student");

        Assert.Empty(Render<GuestBanner>().FindAll("[data-testid=guest-banner]"));
    }

    [Fact]
    public void AResultShowsTypeNamesNullApartFromTextAndSaysWhenItWasCut()
    {
        var result = new ResultSet([new ResultColumn("id", "integer"), new ResultColumn("name", "text")], [["1", "NULL"], ["2", null]], Truncated: true);

        var grid = Render<ResultGrid>(p => p.Add(g => g.Result, result));

        Assert.Equal(["idinteger", "nametext"], grid.FindAll("[data-testid=result-column]").Select(c => c.TextContent));
        var cells = grid.FindAll("[data-testid=result-cell]");
        Assert.Equal(["1", "NULL", "2", "NULL"], cells.Select(c => c.TextContent));
        Assert.DoesNotContain("tdn-null", cells[1].ClassName ?? "", StringComparison.Ordinal);
        Assert.Contains("tdn-null", cells[3].ClassName, StringComparison.Ordinal);
        Assert.Contains("first 2 rows", grid.Find("[data-testid=result-truncated]").TextContent, StringComparison.Ordinal);
        var download = grid.Find("[data-testid=result-download]");
        Assert.Equal("result.csv", download.GetAttribute("download"));
        Assert.Equal("id,name\r\n1,NULL\r\n2,\r\n", Uri.UnescapeDataString(download.GetAttribute("href")!["data:text/csv;charset=utf-8,".Length..]));
    }

    [Fact]
    public void CsvQuotesWhatNeedsQuotingAndLeavesNullEmpty()
    {
        var result = new ResultSet([new ResultColumn("a", "text"), new ResultColumn("b", "text")], [["x,y", "say \"hi\""], ["", null], ["line\nbreak", "plain"]], false);

        Assert.Equal("a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n\"\",\r\n\"line\nbreak\",plain\r\n", ResultCsv.Of(result));
    }

    [Fact]
    public void CsvOfAResultKeepsAFormulaAStudentSelectedAsText()
    {
        var result = new ResultSet([new ResultColumn("=cmd", "text"), new ResultColumn("n", "int4")], [["@SUM(A1)", "-5"]], false);

        Assert.Equal("'=cmd,n\r\n'@SUM(A1),-5\r\n", ResultCsv.Of(result));
    }
}
