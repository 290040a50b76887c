using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Accounts;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Web.Features.Admin;

namespace Taidon.Tests.Components;

public sealed class AdminOverviewTests : ComponentTestContext
{
    [Fact]
    public void ShowsTheAccountFiguresFromTheDirectory()
    {
        Services.AddSingleton<IAccountDirectory>(new FixedDirectory(new AccountSummary(Anonymous: 17, Registered: 4, Admins: 1, ActiveLastDay: 9, CreatedLastDay: 3)));
        Services.AddSingleton<IInstanceActivity>(new FixedActivity(new InstanceActivity(Running: 12, Stopped: 30, Pooled: 2, RunsPerMinute: 4.2, RunsLastHour: 240, FailedLastHour: 31, HitRatioLastHour: 0.9)));
        Services.AddSingleton<IHeadroom>(new FixedHeadroom(Roomy));
        SignInAs("admin@taidon.test", anonymous: false, "Admin", "Student");

        var page = Render<AdminOverview>();

        page.WaitForAssertion(() => Assert.Equal("4", page.Find("[data-testid=registered-count]").TextContent));
        Assert.Equal("17", page.Find("[data-testid=anonymous-count]").TextContent);
        Assert.Contains(page.FindAll("a"), a => a.GetAttribute("href") == "/admin/jobs");
        Assert.Equal("12", page.Find("[data-testid=running-count]").TextContent);
        Assert.Contains("30 stopped, 2 in the warm pool", page.Find("[data-testid=admin-activity]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void ShowsTheMachinesHeadroomAndWhatLimitsNext()
    {
        Services.AddSingleton<IAccountDirectory>(new FixedDirectory(new AccountSummary(0, 0, 1, 0, 0)));
        Services.AddSingleton<IInstanceActivity>(new FixedActivity(new InstanceActivity(0, 0, 0, 0, 0, 0, null)));
        Services.AddSingleton<IHeadroom>(new FixedHeadroom(Roomy with { RunsWaiting = 37, Machine = Roomy.Machine with { LoadAverage = 3.6 } }));
        SignInAs("admin@taidon.test", anonymous: false, "Admin", "Student");

        var page = Render<AdminOverview>();

        page.WaitForAssertion(() => Assert.Equal("Cpu", page.Find("[data-testid=headroom-limit]").GetAttribute("data-limit")));
        Assert.Contains("The cores are the limit now", page.Find("[data-testid=headroom-limit]").TextContent, StringComparison.Ordinal);
        Assert.Equal("3.6 of 2 cores", page.Find("[data-testid=headroom-cpu]").TextContent);
        Assert.Contains("4 working (at most 4), 37 waiting", page.Find("[data-testid=admin-headroom]").TextContent, StringComparison.Ordinal);
        Assert.Equal("12.0 GB of 24.0 GB", page.Find("[data-testid=headroom-memory]").TextContent);
        Assert.Equal("300 of at most 1000", page.Find("[data-testid=headroom-instances]").TextContent);
        Assert.Equal("50.0 GB of 100.0 GB", page.Find("[data-testid=headroom-disk]").TextContent);
        Assert.Contains("runs wait below 1.0 GB", page.Find("[data-testid=admin-headroom]").TextContent, StringComparison.Ordinal);
    }

    private static readonly Headroom Roomy = new(
        new MachineLoad(Cores: 2, LoadAverage: 0.5, MemoryAvailableBytes: 12L << 30, MemoryTotalBytes: 24L << 30),
        RunsWorking: 4, RunsWaiting: 0, ConcurrentRuns: 4, InstancesRunning: 250, InstancesTotal: 300, MaxInstances: 1000,
        [(new DiskSpace("the projects and the instances", "/var/lib/taidon", 50L << 30, 100L << 30), 1L << 30)]);

    private sealed class FixedHeadroom(Headroom headroom) : IHeadroom
    {
        public Task<Headroom> ReadAsync(CancellationToken cancellationToken) => Task.FromResult(headroom);
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
