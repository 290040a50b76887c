using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Tests.Support;
using Xunit.Abstractions;

namespace Taidon.Tests.Web;

/// <summary>What a run costs the shared control-plane database, counted (taidon.controlplane.commands), so that it only goes down.</summary>
public sealed class ControlPlaneCommandsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TaidonAppFactory _app = null!;

    public async Task InitializeAsync() => _app = await TaidonAppFactory.CreateWithInstancesAsync("commands", new Dictionary<string, string?>
    {
        ["Taidon:RateLimits:AnonymousApiPerMinute"] = "10000",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task ARerunOfAClassExerciseSendsTheControlPlaneAtMostTwelveCommands()
    {
        using var client = await _app.GuestApiClientAsync();
        object Body(int edit) => new
        {
            files = new[]
            {
                new { path = "init/01.sql", content = "CREATE TABLE t AS SELECT generate_series(1, 1000) AS n;" },
                new { path = "test/01.sql", content = $"CREATE VIEW v AS SELECT n FROM t WHERE n > {edit};\nSELECT count(*) FROM v;" },
            },
            run = "test/01.sql",
        };
        (await client.PostAsJsonAsync("/api/v1/runs", Body(1))).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/v1/runs", Body(2))).EnsureSuccessStatusCode();
        using var commands = new AppMeasurements(_app.Services.GetRequiredService<IMeterFactory>(), "taidon.controlplane.commands");

        var run = await (await client.PostAsJsonAsync("/api/v1/runs", Body(3))).Content.ReadFromJsonAsync<JsonElement>();

        Assert.True(run.GetProperty("succeeded").GetBoolean());
        output.WriteLine($"commands for one rerun: {commands.Total}");
        // 11 measured: the token checked (1), the instance read and read again under its gate (2), the plan (1), facts and outcomes (2), outcomes and the layer hit written (2), a no-op fact (1), the journal (1), the audit row (1); the account's claims come from AccountPrincipals.
        Assert.InRange(commands.Total, 1, 12);
    }
}
