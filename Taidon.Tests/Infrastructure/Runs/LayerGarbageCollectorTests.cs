using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Infrastructure.Runs;

public sealed class LayerGarbageCollectorTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly ChainKey Key = EngineIdentity.PostgreSql(15).Root.Next("select 1");

    private TaidonAppFactory _app = null!;

    public async Task InitializeAsync()
    {
        _app = await TaidonAppFactory.CreateWithInstancesAsync("gc", new Dictionary<string, string?>
        {
            ["Taidon:Snapshots:BudgetBytes"] = (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public void AnOftenHitCostlySmallLayerIsWorthMoreThanAnIdleBigOne()
    {
        var small = new SnapshotLayer(Key, null, 10_000_000, 100, Now.AddDays(-3), "copy");
        var big = small with { SizeBytes = 80_000_000 };
        var hit = new LayerUse { Key = Key.ToString(), Hits = 40, BuildCostMilliseconds = 5_000, LastUsedAt = Now.AddMinutes(-5) };
        var stale = new LayerUse { Key = Key.ToString(), Hits = 40, BuildCostMilliseconds = 5_000, LastUsedAt = Now.AddDays(-20) };

        Assert.True(LayerGarbageCollector.Value(small, hit, Now) > LayerGarbageCollector.Value(big, hit, Now));
        Assert.True(LayerGarbageCollector.Value(small, hit, Now) > LayerGarbageCollector.Value(small, stale, Now));
        Assert.True(LayerGarbageCollector.Value(small, hit, Now) > LayerGarbageCollector.Value(small, null, Now));
    }

    [Fact]
    public async Task OverBudgetTheLayersGoButTheBaseStateStays()
    {
        using var client = _app.CreateClient();
        var token = (await (await client.PostAsync("/api/v1/anonymous", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        // A seed long enough (by the default estimate) to be worth a layer at the end of the tail.
        var seed = string.Join("\n", Enumerable.Range(1, 150).Select(i => $"INSERT INTO t VALUES ({i});"));
        var files = new[]
        {
            new { path = "init/01.sql", content = "CREATE TABLE t (id int);" },
            new { path = "seed/01.sql", content = seed },
            new { path = "test/01.sql", content = "SELECT count(*) FROM t;" },
        };
        var run = await (await client.PostAsJsonAsync("/api/v1/runs", new { files, run = "test/01.sql" })).Content.ReadFromJsonAsync<JsonElement>();
        var taken = run.GetProperty("plan").GetProperty("layersTaken").EnumerateArray().Select(k => k.GetString()!).ToList();
        Assert.Single(taken);

        var collection = await _app.Services.GetRequiredService<LayerGarbageCollector>().CollectAsync(CancellationToken.None);

        var layers = _app.Services.GetRequiredService<Lazy<LocalInstanceRuntime>>().Value.Layers;
        Assert.Equal(1, collection.Evicted);
        Assert.False(layers.Contains(ChainKey.Parse(taken[0])));
        Assert.True(layers.Contains(_app.Services.GetRequiredService<EngineIdentityProvider>().Identity.Root));
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
        Assert.False(await db.Layers.AnyAsync(l => l.Key == taken[0]));
    }

    [Fact]
    public async Task AStudentsOwnLayersGoBeforeTheCoursesAndBeyondTheirShareWhateverTheTotal()
    {
        using var client = _app.CreateClient();
        var token = (await (await client.PostAsync("/api/v1/anonymous", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var course = await TailLayerAsync(client, "course");
        var students = await TailLayerAsync(client, "student");
        var collector = _app.Services.GetRequiredService<LayerGarbageCollector>();
        var layers = _app.Services.GetRequiredService<Lazy<LocalInstanceRuntime>>().Value.Layers;
        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync())
        {
            // The student's layer is worth more by use, yet it goes first: it is theirs, the other is the course's.
            await db.Layers.Where(l => l.Key == students).ExecuteUpdateAsync(l => l.SetProperty(x => x.OwnerId, "student-1").SetProperty(x => x.Hits, 1000));
        }

        var total = layers.List().Sum(l => l.SizeBytes);
        await collector.SetBudgetAsync(total - 1, CancellationToken.None);
        var overBudget = await collector.CollectAsync(CancellationToken.None);

        Assert.Equal(1, overBudget.Evicted);
        Assert.False(layers.Contains(ChainKey.Parse(students)));
        Assert.True(layers.Contains(ChainKey.Parse(course)));

        // Under a budget with room for all, an account's own layer beyond its share (2 % of the budget) goes all the same.
        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync())
        {
            await db.Layers.Where(l => l.Key == course).ExecuteUpdateAsync(l => l.SetProperty(x => x.OwnerId, "student-2"));
        }

        var size = layers.List().Single(l => l.Key.ToString() == course).SizeBytes;
        await collector.SetBudgetAsync(Math.Max(total * 2, size * 25), CancellationToken.None);
        var overShare = await collector.CollectAsync(CancellationToken.None);

        Assert.Equal(1, overShare.Evicted);
        Assert.False(layers.Contains(ChainKey.Parse(course)));
        Assert.True(layers.Contains(_app.Services.GetRequiredService<EngineIdentityProvider>().Identity.Root));
    }

    [Fact]
    public async Task ALayerInsideAStudentsScriptIsTheirsUntilAnotherAccountRestoresIt()
    {
        // One script, no init or seed: the costly INSERT is worth a layer before the query below it.
        var files = new[] { new { path = "test/01.sql", content = "CREATE TABLE mine (id int);\nINSERT INTO mine SELECT generate_series(1, 1000000);\nSELECT count(*) FROM mine;" } };
        using var ann = await GuestAsync();
        var first = await (await ann.PostAsJsonAsync("/api/v1/runs", new { files, run = "test/01.sql" })).Content.ReadFromJsonAsync<JsonElement>();
        var key = Assert.Single(first.GetProperty("plan").GetProperty("layersTaken").EnumerateArray()).GetString()!;

        Assert.Equal(await TaidonAppFactory.AccountIdAsync(ann), await OwnerOfAsync(key));

        // Another student runs the same script: their run starts from that layer, which is the course's from then on.
        using var bob = await GuestAsync();
        var second = await (await bob.PostAsJsonAsync("/api/v1/runs", new { files, run = "test/01.sql" })).Content.ReadFromJsonAsync<JsonElement>();

        Assert.True(key == second.GetProperty("plan").GetProperty("fromKey").GetString(), second.GetProperty("plan").ToString());
        Assert.Null(await OwnerOfAsync(key));
    }

    private async Task<HttpClient> GuestAsync()
    {
        var client = _app.CreateClient();
        var token = (await (await client.PostAsync("/api/v1/anonymous", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private async Task<string?> OwnerOfAsync(string key)
    {
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
        return (await db.Layers.SingleAsync(l => l.Key == key)).OwnerId;
    }

    /// <summary>Runs a project whose seed (a million rows) is worth a layer at the end of the tail, and returns that layer's key.</summary>
    private static async Task<string> TailLayerAsync(HttpClient client, string table)
    {
        var files = new[]
        {
            new { path = "init/01.sql", content = $"CREATE TABLE {table} (id int);" },
            new { path = "seed/01.sql", content = $"INSERT INTO {table} SELECT generate_series(1, 1000000);" },
            new { path = "test/01.sql", content = $"SELECT count(*) FROM {table};" },
        };
        var run = await (await client.PostAsJsonAsync("/api/v1/runs", new { files, run = "test/01.sql" })).Content.ReadFromJsonAsync<JsonElement>();
        return Assert.Single(run.GetProperty("plan").GetProperty("layersTaken").EnumerateArray()).GetString()!;
    }
}
