using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Accounts;
using Taidon.Web.Features.Admin;

namespace Taidon.Tests.Components;

public sealed class AdminOverviewTests : ComponentTestContext
{
    [Fact]
    public void ShowsTheAccountFiguresFromTheDirectory()
    {
        Services.AddSingleton<IAccountDirectory>(new FixedDirectory(new AccountSummary(Anonymous: 17, Registered: 4, Admins: 1, ActiveLastDay: 9, CreatedLastDay: 3)));
        SignInAs("admin@taidon.test", anonymous: false, "Admin", "Student");

        var page = Render<AdminOverview>();

        page.WaitForAssertion(() => Assert.Equal("4", page.Find("[data-testid=registered-count]").TextContent));
        Assert.Equal("17", page.Find("[data-testid=anonymous-count]").TextContent);
        Assert.Contains(page.FindAll("a"), a => a.GetAttribute("href") == "/admin/jobs");
    }

    private sealed class FixedDirectory(AccountSummary summary) : IAccountDirectory
    {
        public Task<AccountSummary> SummarizeAsync(CancellationToken cancellationToken) => Task.FromResult(summary);
    }
}
