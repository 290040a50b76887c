using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Instances;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>An admin plans a lesson: the course's layers are built and the warm pool holds an instance per student in the exercise's starting state.</summary>
public sealed class LessonWarmupTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Course = new()
    {
        ["init/01_schema.sql"] = "CREATE TABLE pupils (id int PRIMARY KEY, name text);\nINSERT INTO pupils SELECT g, 'pupil ' || g FROM generate_series(1, 2000) g;\nCREATE INDEX ON pupils (name);\n",
        ["test/01_count.sql"] = "SELECT count(*) FROM pupils;\n",
    };

    private TaidonAppFactory _app = null!;
    private GitHttpServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await GitHttpServer.StartAsync();
        _app = await TaidonAppFactory.CreateWithInstancesAsync("lesson", new Dictionary<string, string?>
        {
            ["Taidon:Git:AllowedHosts:0"] = _server.Host,
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task ALessonSoonIsWarmedAtOnceAndTheClassClaimsInstancesWaitingInTheCoursesStartingState()
    {
        await _server.CreateRepositoryAsync("course", Course);
        using var admin = await _app.AdminApiClientAsync();

        using var response = await admin.PostAsJsonAsync("/api/v1/admin/lessons", new { course = _server.PublicUrl("course"), startsAt = DateTimeOffset.UtcNow.AddMinutes(5), minutes = 45, students = 2 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ready = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ready");
        Assert.Equal("test/01_count.sql", ready.GetProperty("exercise").GetString());
        Assert.True(ready.GetProperty("startStateCached").GetBoolean(), "the state where the exercise starts is a layer of the cache");
        var start = ready.GetProperty("startState").GetString()!;
        // The copy of the course it ran is gone from the admin's projects.
        Assert.DoesNotContain((await admin.GetFromJsonAsync<JsonElement>("/api/v1/projects")).EnumerateArray(), p => p.GetProperty("name").GetString()!.StartsWith("lesson warm-up", StringComparison.Ordinal));

        var store = _app.Services.GetRequiredService<IInstanceStore>();
        async Task<List<Instance>> WaitingAsync() =>
            [.. (await store.AllAsync(CancellationToken.None)).Where(i => i.OwnerId is null && i.State == InstanceState.Pooled && i.StateKey == start)];
        for (var tries = 0; (await WaitingAsync()).Count < 2 && tries < 240; tries++)
        {
            await Task.Delay(500);
        }

        var waiting = await WaitingAsync();
        Assert.Equal(2, waiting.Count);

        // A student of the class: the first run takes a waiting instance, already in the course's state.
        using var student = await _app.GuestApiClientAsync();
        var run = await (await student.PostAsJsonAsync("/api/v1/runs", new { files = Course.Select(f => new { path = f.Key, content = f.Value }), run = "test/01_count.sql" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(run.GetProperty("succeeded").GetBoolean(), run.ToString());
        Assert.Contains(Guid.Parse(run.GetProperty("instanceId").GetString()!), waiting.Select(i => i.Id));
        Assert.Equal(0, run.GetProperty("plan").GetProperty("replayed").GetInt32());

        // A claimed instance is not replaced: the class of two needs one more, not two.
        await _app.Services.GetRequiredService<WarmPool>().RefillAsync(CancellationToken.None);
        Assert.Single(await WaitingAsync());

        // Another replica's pool (its own, on the same control plane) knows the lesson and what the class
        // took: it neither gives the waiting instance back nor replaces the claimed one.
        var otherReplica = ActivatorUtilities.CreateInstance<WarmPool>(_app.Services);
        Assert.True(await otherReplica.IsWantedAsync(CancellationToken.None));
        await otherReplica.RefillAsync(CancellationToken.None);
        Assert.Equal(start, otherReplica.LessonNow?.State.ToString());
        Assert.Single(await WaitingAsync());

        // Should the cache drop the lesson's layer, an instance the pool still owes the class waits where
        // most runs go (or in the base state) instead of failing to be made.
        var runtime = _app.Services.GetRequiredService<IInstanceRuntime>();
        var waitingOne = Assert.Single(await WaitingAsync());
        await runtime.DeleteAsync(waitingOne.Id, CancellationToken.None);
        await store.RemoveAsync(waitingOne.Id, CancellationToken.None);
        Assert.True(await runtime.Layers.RemoveAsync(Taidon.Core.SqlChain.ChainKey.Parse(start), CancellationToken.None));
        Assert.Equal(1, await _app.Services.GetRequiredService<WarmPool>().RefillAsync(CancellationToken.None));
        var remade = Assert.Single(await store.AllAsync(CancellationToken.None), i => i.OwnerId is null && i.State == InstanceState.Pooled);
        Assert.NotEqual(start, remade.StateKey);
        Assert.True(await runtime.IsRunningAsync(remade.Id, CancellationToken.None));
    }

    [Fact]
    public async Task ALaterLessonIsScheduledFifteenMinutesAheadAndAWrongOneIsRefused()
    {
        using var admin = await _app.AdminApiClientAsync();
        var startsAt = DateTimeOffset.UtcNow.AddHours(3);

        using var later = await admin.PostAsJsonAsync("/api/v1/admin/lessons", new { course = _server.PublicUrl("course"), startsAt, minutes = 45, students = 30 });
        using var wrong = await admin.PostAsJsonAsync("/api/v1/admin/lessons", new { course = _server.PublicUrl("course"), startsAt, minutes = 45, students = 0 });

        Assert.Equal(HttpStatusCode.Accepted, later.StatusCode);
        var planned = await later.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(planned.GetProperty("jobId").GetString()));
        Assert.Equal(startsAt - LessonWarmup.Lead, planned.GetProperty("warmsAt").GetDateTimeOffset(), TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("1 to 2000 students", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
