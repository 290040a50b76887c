using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Audit;
using Taidon.Core.Instances;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>Instances have a disk budget: past it, stopped instances whose state the cache holds give up their files and come back on their next run.</summary>
public sealed class InstanceDiskBudgetTests : IAsyncLifetime
{
    private TaidonAppFactory _app = null!;

    public async Task InitializeAsync() => _app = await TaidonAppFactory.CreateWithInstancesAsync("reclaim", new Dictionary<string, string?>
    {
        ["Taidon:Instances:DiskBudgetMegabytes"] = "1",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task AStoppedInstanceInACachedStateGivesUpItsFilesPastTheBudgetAndItsNextRunWorks()
    {
        using var client = await _app.GuestApiClientAsync();
        var created = await (await client.PostAsync("/api/v1/instances", null)).Content.ReadFromJsonAsync<JsonElement>();
        var id = Guid.Parse(created.GetProperty("id").GetString()!);
        var runtime = _app.Services.GetRequiredService<IInstanceRuntime>();
        await _app.Services.GetRequiredService<InstanceAdministration>().StopAsync(id, "admin-test", CancellationToken.None);
        Assert.NotNull(await runtime.UsageAsync(id, CancellationToken.None));

        var sweep = await _app.Services.GetRequiredService<InstanceLifecycle>().SweepAsync(CancellationToken.None);

        Assert.Equal(1, sweep.Reclaimed);
        Assert.Null(await runtime.UsageAsync(id, CancellationToken.None));
        Assert.Equal(InstanceState.Reclaimed, (await _app.Services.GetRequiredService<IInstanceStore>().FindAsync(id, CancellationToken.None))!.State);
        var run = await (await client.PostAsJsonAsync($"/api/v1/instances/{id}/runs", new { script = "CREATE TABLE t (id int);\nSELECT count(*) FROM t;" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(run.GetProperty("succeeded").GetBoolean());
        Assert.Equal(InstanceState.Running, (await _app.Services.GetRequiredService<IInstanceStore>().FindAsync(id, CancellationToken.None))!.State);
        var audit = await _app.Services.GetRequiredService<IAuditTrail>().SearchAsync(new AuditFilter(Action: AuditActions.InstanceReclaim), null, 10, CancellationToken.None);
        Assert.Contains(audit, e => e.Target == Instance.AuditTarget(id));
    }
}
