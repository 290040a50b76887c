using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Taidon.Tests.Support;

namespace Taidon.Tests.Kubernetes;

/// <summary>
/// Two replicas of the app, two processes, on one control plane, one fake cluster (its pods real PostgreSQL processes) and
/// one projects folder, as the chart runs them with <c>replicaCount: 2</c>: a student's requests land on
/// either, as they do without sticky sessions.
/// </summary>
public sealed class KubernetesReplicaTests : IAsyncLifetime
{
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task ARunStartedOnOneReplicaIsFollowedAndStoppedFromTheOtherAndTheirRunsOnOneInstanceTakeTurns()
    {
        var settings = _cluster.AppSettings();
        await using var first = await TaidonAppFactory.CreateWithInstancesAsync("k8s-replicas", settings);
        using var onFirst = await first.GuestApiClientAsync();
        // The second replica is a process of its own: nothing in memory is shared with the first.
        await using var second = await AppProcess.StartAsync(first.ConnectionString, new Dictionary<string, string?>(settings) { ["Taidon:DataDirectory"] = first.DataDirectory });
        using var onSecond = new HttpClient { BaseAddress = second.Url };
        onSecond.DefaultRequestHeaders.Authorization = onFirst.DefaultRequestHeaders.Authorization;
        using var strangerOnFirst = await first.GuestApiClientAsync();
        using var stranger = new HttpClient { BaseAddress = second.Url };
        stranger.DefaultRequestHeaders.Authorization = strangerOnFirst.DefaultRequestHeaders.Authorization;
        Assert.Equal("1", Value(await RunAsync(onFirst, "SELECT 1 AS one;"), 0));

        // Started on the first, seen and stopped from the second.
        var runId = Guid.NewGuid();
        var running = onFirst.PostAsJsonAsync("/api/v1/runs", new { script = "SELECT 1;\nSELECT pg_sleep(60);\nSELECT 3;", runId });
        var progress = await SeenRunningAsync(onSecond, runId, running);
        Assert.Equal(3, progress.GetProperty("total").GetInt32());
        Assert.Equal(runId.ToString(), Assert.Single((await onSecond.GetFromJsonAsync<JsonElement>("/api/v1/runs")).EnumerateArray()).GetProperty("runId").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/runs/{runId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/api/v1/runs/{runId}/stop", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await onSecond.PostAsync($"/api/v1/runs/{runId}/stop", null)).StatusCode);
        var stopped = await (await running.WaitAsync(TimeSpan.FromSeconds(30))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(stopped.GetProperty("stopped").GetBoolean(), stopped.ToString());
        Assert.Equal(["executed", "error", "skipped"], stopped.GetProperty("statements").EnumerateArray().Select(s => s.GetProperty("status").GetString()));
        // The other replica hears of the end at once, or within a second when that word is lost.
        for (var i = 0; i < 20 && (await onSecond.GetAsync($"/api/v1/runs/{runId}")).StatusCode == HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await onSecond.GetAsync($"/api/v1/runs/{runId}")).StatusCode);

        // Two runs on one instance through two replicas take turns: the second waits for the first, which
        // it would otherwise break by restoring the instance under it.
        var slowId = Guid.NewGuid();
        var slow = onFirst.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE t (id int);\nSELECT pg_sleep(3);\nINSERT INTO t VALUES (1);\nSELECT count(*) FROM t;", runId = slowId });
        await SeenRunningAsync(onSecond, slowId, slow);
        var other = await RunAsync(onSecond, "CREATE TABLE u (id int);\nSELECT count(*) FROM u;");
        Assert.True(slow.IsCompleted, "the second replica's run finished while the first's still held the instance");
        var slowRun = await (await slow).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(slowRun.GetProperty("succeeded").GetBoolean(), slowRun.ToString());
        Assert.Equal("1", Value(slowRun, 3));
        Assert.Equal("0", Value(other, 1));
        Assert.Single(_cluster.Api.List(TestNamespace.Pods));
    }

    /// <summary>Polls a replica until it reports the run at its second statement (the one that sleeps).</summary>
    private static async Task<JsonElement> SeenRunningAsync(HttpClient client, Guid runId, Task<HttpResponseMessage> running)
    {
        for (var i = 0; i < 300; i++)
        {
            var poll = await client.GetAsync($"/api/v1/runs/{runId}");
            if (poll.StatusCode == HttpStatusCode.OK && await poll.Content.ReadFromJsonAsync<JsonElement>() is { } p && p.GetProperty("current").GetInt32() == 2)
            {
                return p;
            }

            Assert.False(running.IsCompleted, running.IsCompleted ? await (await running).Content.ReadAsStringAsync() : null);
            await Task.Delay(100);
        }

        throw new TimeoutException($"Run {runId} was never seen at its second statement from the other replica.");
    }

    private static async Task<JsonElement> RunAsync(HttpClient client, string script)
    {
        var response = await client.PostAsJsonAsync("/api/v1/runs", new { script });
        var run = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode && run.GetProperty("succeeded").GetBoolean(), run.ToString());
        return run;
    }

    private static string? Value(JsonElement run, int statement) =>
        run.GetProperty("statements")[statement].GetProperty("results")[0].GetProperty("rows")[0][0].GetString();
}
