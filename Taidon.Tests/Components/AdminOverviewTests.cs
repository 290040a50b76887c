using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Accounts;
using Taidon.Core.Instances;
using Taidon.Web.Features.Admin;

namespace Taidon.Tests.Components;

public sealed class AdminOverviewTests : ComponentTestContext
{
    [Fact]
    public void ShowsTheAccountFiguresFromTheDirectory()
    {
        Services.AddSingleton<IAccountDirectory>(new FixedDirectory(new AccountSummary(Anonymous: 17, Registered: 4, Admins: 1, ActiveLastDay: 9, CreatedLastDay: 3)));
        Services.AddSingleton<IInstanceActivity>(new FixedActivity(new InstanceActivity(Running: 12, Stopped: 30, Pooled: 2, RunsPerMinute: 4.2, RunsLastHour: 240, FailedLastHour: 31, HitRatioLastHour: 0.9)));
        SignInAs("admin@taidon.test", anonymous: false, "Admin", "Student");

        var page = Render<AdminOverview>();

        page.WaitForAssertion(() => Assert.Equal("4", page.Find("[data-testid=registered-count]").TextContent));
        Assert.Equal("17", page.Find("[data-testid=anonymous-count]").TextContent);
        Assert.Contains(page.FindAll("a"), a => a.GetAttribute("href") == "/admin/jobs");
        Assert.Equal("12", page.Find("[data-testid=running-count]").TextContent);
        Assert.Contains("30 stopped, 2 in the warm pool", page.Find("[data-testid=admin-activity]").TextContent, StringComparison.Ordinal);
    }

    private sealed class FixedActivity(InstanceActivity activity) : IInstanceActivity
    {
        public Task<InstanceActivity> ActivityAsync(CancellationToken cancellationToken) => Task.FromResult(activity);
    }

    private sealed class FixedDirectory(AccountSummary summary) : IAccountDirectory
    {
        public Task<AccountSummary> SummarizeAsync(CancellationToken cancellationToken) => Task.FromResult(summary);
    }
}
