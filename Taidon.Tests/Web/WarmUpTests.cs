using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

public sealed class WarmUpTests
{
    [Fact]
    public async Task AReplicaIsReadyOnlyOnceItHasServedTheWorkspaceToItselfAndThatMadeNoAccount()
    {
        await using var app = await TaidonAppFactory.CreateAsync("warmup", new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Taidon.Web.Features.Gateway.WarmUp"] = "Information",
        });
        var address = app.StartOnLoopback();
        using var http = new HttpClient { BaseAddress = address };

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await http.GetAsync("/readyz")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the replica did not become ready");
            await Task.Delay(20);
        }

        // Ready means warmed: the line is written before the check turns healthy.
        Assert.Contains(app.Logs.Messages, m => m.Contains("Warm-up: served the workspace to itself in ", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Messages, m => m.Contains("Warm-up:", StringComparison.Ordinal) && m.Contains("without it", StringComparison.Ordinal));
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
        Assert.Equal(0, await db.Users.CountAsync(u => u.IsAnonymous));
    }
}
