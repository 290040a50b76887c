using Taidon.Core.Instances;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>A new student gets a started instance from the warm pool at once, and the pool refills.</summary>
public sealed class WarmPoolTests : IAsyncLifetime
{
    private TaidonAppFactory _app = null!;

    public async Task InitializeAsync()
    {
        _app = await TaidonAppFactory.CreateWithInstancesAsync("pool", new Dictionary<string, string?>
        {
            ["Taidon:Instances:WarmPoolSize"] = "1",
        });
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task ANewInstanceComesFromThePoolAndThePoolRefills()
    {
        var pool = _app.Services.GetRequiredService<WarmPool>();
        await pool.RefillAsync(CancellationToken.None);
        var pooled = Assert.Single(await PooledAsync());
        Assert.Equal(InstanceState.Pooled, pooled.State);

        using var client = await ClientAsync();
        var created = await client.PostAsync("/api/v1/instances", null);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var instance = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(pooled.Id.ToString(), instance.GetProperty("id").GetString());
        Assert.Equal("running", instance.GetProperty("state").GetString());

        // Claimed instances are the student's: private, in the base state, and they run at once.
        var run = await (await client.PostAsJsonAsync($"/api/v1/instances/{pooled.Id}/runs", new { script = "SELECT current_user, current_database();" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("hot", run.GetProperty("plan").GetProperty("description").GetString());
        Assert.Equal(["student", "workspace"], run.GetProperty("statements")[0].GetProperty("results")[0].GetProperty("rows")[0].EnumerateArray().Select(v => v.GetString()));

        await pool.RefillAsync(CancellationToken.None);
        var refilled = Assert.Single(await PooledAsync());
        Assert.NotEqual(pooled.Id, refilled.Id);

        // Reconciliation leaves the pool alone; a pooled instance that died is started again by the refill.
        var report = await _app.Services.GetRequiredService<InstanceReconciliation>().ReconcileAsync(CancellationToken.None);
        Assert.Equal(0, report.OrphansRemoved);
        Assert.Equal(0, report.MarkedStopped);
    }

    [Fact]
    public async Task PooledInstancesWaitInTheStateMostRunsRestoreSoANewStudentsFirstRunIsHot()
    {
        object[] Files(string test) =>
        [
            new { path = "init/01_schema.sql", content = "CREATE TABLE slow AS SELECT 1 AS x FROM pg_sleep(0.3);" },
            new { path = "test/01_check.sql", content = test },
        ];
        using (var teacher = await ClientAsync())
        {
            // The first run layers the costly init; the edited rerun restores that layer (a hit).
            await teacher.PostAsJsonAsync("/api/v1/runs", new { files = Files("INSERT INTO slow VALUES (2);"), run = "test/01_check.sql" });
            var rerun = await (await teacher.PostAsJsonAsync("/api/v1/runs", new { files = Files("INSERT INTO slow VALUES (3);"), run = "test/01_check.sql" }))
                .Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("RestoreLayer", rerun.GetProperty("plan").GetProperty("start").GetString());
        }

        await _app.Services.GetRequiredService<WarmPool>().RefillAsync(CancellationToken.None);

        using var student = await ClientAsync();
        var first = await (await student.PostAsJsonAsync("/api/v1/runs", new { files = Files("SELECT count(*) FROM slow;"), run = "test/01_check.sql" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("hot", first.GetProperty("plan").GetProperty("description").GetString());
        Assert.Equal("1", first.GetProperty("statements")[1].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());
    }

    private async Task<List<Instance>> PooledAsync()
    {
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
        return await db.Instances.AsNoTracking().Where(i => i.OwnerId == null).ToListAsync();
    }

    private Task<HttpClient> ClientAsync() => _app.GuestApiClientAsync();
}
