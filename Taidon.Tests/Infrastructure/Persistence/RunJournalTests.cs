using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;
using Taidon.Tests.Support;

namespace Taidon.Tests.Infrastructure.Persistence;

/// <summary>The run journal in the control-plane database: a class's runs record the same facts and layers at once.</summary>
public sealed class RunJournalTests : IAsyncLifetime
{
    private TaidonAppFactory _app = null!;

    public async Task InitializeAsync() => _app = await TaidonAppFactory.CreateAsync("journal");

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task RunsThatLearnTheSameFactsAndUseTheSameLayerAtOnceAreAllRecorded()
    {
        using var client = await _app.GuestApiClientAsync();
        var owner = await TaidonAppFactory.AccountIdAsync(client);
        var instances = _app.Services.GetRequiredService<IInstanceStore>();
        var journal = _app.Services.GetRequiredService<IRunJournal>();
        var chain = ChainAnalysis.Analyze([new SqlSource("a.sql", "SET x = 1;\nCREATE TABLE t (id int);\nSELECT 1;")], EngineIdentity.PostgreSql(15));
        var (before, after) = (chain.Keys[0], chain.Keys[1]);
        var layer = chain.Keys[2];
        var now = DateTimeOffset.UtcNow;
        var runners = new List<Instance>();
        for (var i = 0; i < 8; i++)
        {
            var instance = Instance.New(owner, InstanceState.Running, chain.Keys[0], now, TimeSpan.FromHours(1));
            await instances.AddAsync(instance, CancellationToken.None);
            runners.Add(instance);
        }

        await Task.WhenAll(runners.Select(instance =>
        {
            instance.Ran(layer, now);
            var taken = new LayerUse { Key = layer.ToString(), SizeBytes = 1000, BuildCostMilliseconds = 40, CreatedAt = now, LastUsedAt = now };
            var history = new RunHistoryEntry { Id = Guid.NewGuid(), OwnerId = owner, ScriptPath = "a.sql", Text = "SELECT 1;", Outcome = "succeeded", StartedAt = now };
            return journal.RecordAsync(new RunRecord(instance, [taken], layer, [(before, after)], history, RunService.MaxHistory, now), CancellationToken.None);
        }));

        Assert.Equal([(before, after)], await journal.NoOpsFromAsync([before], CancellationToken.None));
        var layers = await _app.Services.GetRequiredService<ILayerLedger>().AllAsync(CancellationToken.None);
        Assert.Equal(8, layers[layer.ToString()].Hits);
        Assert.Equal(8, (await journal.HistoryAsync(owner, 50, CancellationToken.None)).Count);
        Assert.All(await instances.OfOwnerAsync(owner, CancellationToken.None), i => Assert.Equal(layer, i.KnownState));
    }

    [Fact]
    public async Task ARunThatTrimsTheHistoryKeepsTheNewestAndOneThatDoesNotKeepsAll()
    {
        using var client = await _app.GuestApiClientAsync();
        var owner = await TaidonAppFactory.AccountIdAsync(client);
        var instances = _app.Services.GetRequiredService<IInstanceStore>();
        var journal = _app.Services.GetRequiredService<IRunJournal>();
        var root = EngineIdentity.PostgreSql(15).Root;
        var start = DateTimeOffset.UtcNow;
        var instance = Instance.New(owner, InstanceState.Running, root, start, TimeSpan.FromHours(1));
        await instances.AddAsync(instance, CancellationToken.None);

        Task Record(int i, int? keep) => journal.RecordAsync(new RunRecord(instance, [], null, [],
            new RunHistoryEntry { Id = Guid.NewGuid(), OwnerId = owner, ScriptPath = "a.sql", Text = $"SELECT {i};", Outcome = "succeeded", StartedAt = start.AddSeconds(i) },
            keep, start.AddSeconds(i)), CancellationToken.None);
        for (var i = 0; i < 4; i++)
        {
            await Record(i, null);
        }

        Assert.Equal(4, (await journal.HistoryAsync(owner, 50, CancellationToken.None)).Count);

        await Record(4, 3);

        Assert.Equal(["SELECT 4;", "SELECT 3;", "SELECT 2;"], (await journal.HistoryAsync(owner, 50, CancellationToken.None)).Select(r => r.Text));
    }
}
