using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>A run's chain is split and keyed once and passed along: once per run, once per preview, once per benchmark.</summary>
public sealed class ChainAnalysisCountTests : IAsyncLifetime
{
    private TaidonAppFactory _app = null!;

    public async Task InitializeAsync() => _app = await TaidonAppFactory.CreateWithInstancesAsync("analyses", new Dictionary<string, string?>
    {
        ["Taidon:Instances:WarmPoolSize"] = "0",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static readonly SqlSource[] Course =
    [
        new("init/01_schema.sql", "CREATE TABLE t (id int);\nINSERT INTO t SELECT generate_series(1, 100);"),
        new("test/01_count.sql", "SELECT count(*) FROM t;\nSELECT 1;\nSELECT max(id) FROM t;"),
        new("bench/01_scan.sql", "SELECT count(*) FROM t WHERE id > 10;\nSELECT sum(id) FROM t;"),
    ];

    [Fact]
    public async Task EachRunPreviewAndBenchmarkAnalyzesItsChainExactlyOnce()
    {
        using var analyses = new AppMeasurements(_app.Services.GetRequiredService<IMeterFactory>(), "taidon.chain.analyses");
        using var client = await _app.GuestApiClientAsync();
        var owner = await TaidonAppFactory.AccountIdAsync(client);
        var runs = _app.Services.GetRequiredService<RunService>();

        var response = await client.PostAsJsonAsync("/api/v1/runs", new { files = Course.Select(f => new { path = f.Path, content = f.Text }), run = "test/01_count.sql" });
        response.EnsureSuccessStatusCode();
        Assert.Equal(["run"], analyses.TakeTag("purpose"));

        // A selection is found on the chain the run analyzes (the page does not split it first).
        var (_, _, selected) = await runs.RunAsync(owner, null, Course, HeadSelection.Selection("test/01_count.sql", new(2, 1), new(2, 1)), null, CancellationToken.None);
        Assert.Equal(1, selected.Plan.HeadEnd - selected.Plan.HeadStart);
        Assert.Equal(["run"], analyses.TakeTag("purpose"));

        Assert.NotNull(await runs.PreviewAsync(owner, Course, new HeadSelection(FromFile: "test/01_count.sql"), CancellationToken.None));
        Assert.Equal(["preview"], analyses.TakeTag("purpose"));

        // A benchmark runs the script, then each query in the state before it, then goes back: one analysis for all of it.
        var report = await _app.Services.GetRequiredService<BenchmarkService>().RunAsync(owner, Course, "bench/01_scan.sql", null, CancellationToken.None);
        Assert.Equal(2, report.Statements.Count);
        Assert.Equal(["run"], analyses.TakeTag("purpose"));

        // The cursor on a comment selects nothing: refused before anything runs, after its one analysis.
        await Assert.ThrowsAsync<NoStatementSelectedException>(() =>
            runs.RunAsync(owner, null, [.. Course, new SqlSource("test/02_empty.sql", "-- to do")], HeadSelection.Before("test/02_empty.sql", new(1, 1)), null, CancellationToken.None));
        Assert.Equal(["run"], analyses.TakeTag("purpose"));
    }
}
