using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Taidon.Core.Runs;
using Taidon.Tests.Kubernetes;
using Taidon.Tests.Support;
using Xunit.Abstractions;

namespace Taidon.Tests.E2E;

/// <summary>
/// A rolling update as the chart runs it with two replicas: the app on the Kubernetes runtime (the fake
/// cluster, its pods real PostgreSQL processes), one control plane and one projects folder, behind a proxy
/// that keeps each browser on its replica. A new replica joins, the student's replica leaves the proxy and
/// stops; the run it had in progress ends and is recorded, and the student's workspace comes back on
/// another replica with the edit it had saved.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class RollingUpdateTests(BrowserFixture browser, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly Dictionary<string, (TaidonAppFactory App, Uri Address)> _live = [];
    private readonly List<TaidonAppFactory> _all = [];
    private ProcessCluster _cluster = null!;
    private ReplicaProxy _proxy = null!;
    private Dictionary<string, string?> _settings = null!;
    private string _controlPlane = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ProcessCluster.StartAsync();
        var first = await TaidonAppFactory.CreateWithInstancesAsync("rolling", _cluster.AppSettings());
        _all.Add(first);
        _controlPlane = first.ConnectionString;
        _settings = new Dictionary<string, string?>(_cluster.AppSettings()) { ["Taidon:DataDirectory"] = first.DataDirectory };
        _live["a"] = (first, first.StartOnLoopback());
        _live["b"] = Replica();
        _proxy = await ReplicaProxy.StartAsync(Addresses());
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        // The first replica last: it removes the shared data directory.
        foreach (var app in Enumerable.Reverse(_all))
        {
            await app.DisposeAsync();
        }

        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task TheStudentsReplicaIsReplacedItsRunEndsAndTheWorkspaceComesBackWithTheSavedEdit()
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = _proxy.Url.ToString() });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await BrowserFixture.BecomeGuestAsync(page);
        await BrowserFixture.WaitForWorkspaceAsync(page);

        // A saved edit, and a run still going when its replica is replaced.
        await page.Locator(".monaco-editor textarea").FocusAsync();
        await page.Keyboard.PressAsync("Control+End");
        await page.Keyboard.InsertTextAsync("\nSELECT pg_sleep(3) AS slept;");
        await Assertions.Expect(page.GetByTestId("save-state")).ToHaveTextAsync("Saved");
        await page.Keyboard.PressAsync("Control+Enter");
        var (student, run) = await RunInProgressAsync();
        output.WriteLine($"The student is on replica {student}; run {run.Id} in progress.");

        // Students on the API run meanwhile, through the proxy, whichever replica it sends them to.
        using var rollout = new CancellationTokenSource();
        var outcomes = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var classmates = Enumerable.Range(0, 3).Select(_ => RunUntilAsync(rollout.Token, outcomes)).ToList();

        // The rollout: a new replica joins, the student's leaves the proxy, then stops (after a second, as
        // after its preStop sleep: requests already sent to it arrive).
        var loadedAt = await page.EvaluateAsync<double>("() => performance.timeOrigin");
        _live["c"] = Replica();
        var leaving = _live[student].App;
        _live.Remove(student);
        _proxy.Route(Addresses());
        await Task.Delay(TimeSpan.FromSeconds(1));
        var stopping = Stopwatch.StartNew();
        var stopped = leaving.DisposeAsync().AsTask();

        // The replica lets the run end, then closes its circuits: the page reconnects to another replica,
        // which does not know the circuit, and loads again there, with the edit that was saved.
        await page.WaitForFunctionAsync("before => performance.timeOrigin !== before", loadedAt, new() { Timeout = 30_000 });
        await BrowserFixture.WaitForAppAsync(page);
        await BrowserFixture.WaitForWorkspaceAsync(page, 30_000);
        var back = stopping.Elapsed;
        await stopped;
        output.WriteLine($"The workspace was back {back.TotalSeconds:0.0} s after replica {student} began to stop; it stopped in {stopping.Elapsed.TotalSeconds:0.0} s.");
        Assert.True(back < TimeSpan.FromSeconds(10), $"the workspace took {back.TotalSeconds:0.0} s to come back");

        // The run ended on the replica that stopped, and is in the student's history; no classmate's run was lost.
        Assert.Equal(1, await SucceededRunsAsync(run.OwnerId));
        await rollout.CancelAsync();
        await Task.WhenAll(classmates);
        output.WriteLine($"The classmates ran {outcomes.Count} times during the rollout.");
        Assert.All(outcomes, o => Assert.Equal("succeeded", o));
        Assert.True(outcomes.Count >= 6, $"only {outcomes.Count} runs");
        await Assertions.Expect(page.Locator(".monaco-editor .view-lines")).ToContainTextAsync("pg_sleep(3) AS slept");

        // And the student runs again, on a replica still there.
        await page.Locator(".monaco-editor textarea").FocusAsync();
        await page.Keyboard.PressAsync("Control+Enter");
        await Assertions.Expect(page.GetByTestId("plan-chip")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        for (var i = 0; i < 50 && await SucceededRunsAsync(run.OwnerId) < 2; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(2, await SucceededRunsAsync(run.OwnerId));
    }

    /// <summary>The student's runs of the edited script that succeeded, as the history (in the control plane) has them.</summary>
    private async Task<int> SucceededRunsAsync(string owner) =>
        (await _live["c"].App.Services.GetRequiredService<IRunJournal>().HistoryAsync(owner, 10, CancellationToken.None))
            .Count(h => h.Outcome == "succeeded" && h.Text.Contains("pg_sleep(3) AS slept", StringComparison.Ordinal));

    /// <summary>A student on the API: a guest of its own, running small scripts through the proxy until told to stop.</summary>
    private async Task RunUntilAsync(CancellationToken stop, System.Collections.Concurrent.ConcurrentQueue<string> outcomes)
    {
        using var client = new HttpClient { BaseAddress = _proxy.Url, Timeout = TimeSpan.FromSeconds(90) };
        var guest = await (await client.PostAsync("/api/v1/anonymous", null)).Content.ReadFromJsonAsync<JsonElement>();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", guest.GetProperty("token").GetString());
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            try
            {
                using var response = await client.PostAsJsonAsync("/api/v1/runs", new { script = $"CREATE TABLE t (id int);\nINSERT INTO t VALUES ({n});\nSELECT count(*) FROM t;" });
                var body = await response.Content.ReadAsStringAsync();
                outcomes.Enqueue(response.IsSuccessStatusCode && body.Contains("\"succeeded\":true", StringComparison.Ordinal) ? "succeeded" : $"{(int)response.StatusCode}: {body[..Math.Min(300, body.Length)]}");
            }
            catch (HttpRequestException e)
            {
                outcomes.Enqueue("lost: " + e.Message);
            }
        }
    }

    /// <summary>Which replica runs the student's run, and the run: polled until one has it.</summary>
    private async Task<(string Replica, ActiveRun Run)> RunInProgressAsync()
    {
        for (var i = 0; i < 600; i++)
        {
            foreach (var (name, (app, _)) in _live)
            {
                if (app.Services.GetRequiredService<IActiveRuns>().Here.FirstOrDefault() is { } run)
                {
                    return (name, run);
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("No replica ever had the student's run in progress.");
    }

    private (TaidonAppFactory App, Uri Address) Replica()
    {
        var app = new TaidonAppFactory(_controlPlane, _settings);
        _all.Add(app);
        return (app, app.StartOnLoopback());
    }

    private Dictionary<string, Uri> Addresses() => _live.ToDictionary(r => r.Key, r => r.Value.Address);
}
