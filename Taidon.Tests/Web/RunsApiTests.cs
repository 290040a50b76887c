using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Instances;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>A student's SQL runs over the API in a private instance, and the rerun comes from the cache.</summary>
public sealed class RunsApiTests : IAsyncLifetime
{
    // Short: instance sockets live under the data directory and their paths must stay under 108 bytes.
    private TaidonAppFactory _app = null!;

    public async Task InitializeAsync()
    {
        _app = await TaidonAppFactory.CreateWithInstancesAsync("runs", new Dictionary<string, string?>
        {
            ["Taidon:Instances:MaxPerAccount"] = "1",
            ["Taidon:Instances:StatementTimeoutSeconds"] = "5",
            // Following a run polls; the guests' API limit is not what these tests are about.
            ["Taidon:RateLimits:AnonymousApiPerMinute"] = "10000",
        });
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task AScriptRunsInTheCallersInstanceAndReturnsItsRows()
    {
        using var client = await ClientAsync();

        var response = await client.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (2);\nSELECT count(*) AS n FROM t;" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(run.GetProperty("succeeded").GetBoolean());
        var statements = run.GetProperty("statements");
        Assert.Equal("INSERT 0 2", statements[1].GetProperty("commandTag").GetString());
        var result = statements[2].GetProperty("results")[0];
        Assert.Equal("n", result.GetProperty("columns")[0].GetProperty("name").GetString());
        Assert.Equal("bigint", result.GetProperty("columns")[0].GetProperty("typeName").GetString());
        Assert.Equal("2", result.GetProperty("rows")[0][0].GetString());
        Assert.Matches("^[0-9a-f]{64}$", run.GetProperty("finalState").GetString());
    }

    [Fact]
    public async Task EveryRunIsInTheOwnersHistoryWithItsTextAndOutcomeAndNobodyElses()
    {
        using var client = await ClientAsync();
        using var other = await ClientAsync();
        await client.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE h (id int);\nSELECT 1;", path = "test/01_h.sql" });
        await client.PostAsJsonAsync("/api/v1/runs", new { script = "SELECT nosuch;", path = "test/02_bad.sql" });

        var history = await client.GetFromJsonAsync<JsonElement>("/api/v1/runs/history");

        Assert.Equal(2, history.GetArrayLength());
        var (latest, first) = (history[0], history[1]);
        Assert.Equal("test/02_bad.sql", latest.GetProperty("script").GetString());
        Assert.Equal("failed", latest.GetProperty("outcome").GetString());
        Assert.StartsWith("42703", latest.GetProperty("error").GetString());
        Assert.Equal("test/01_h.sql", first.GetProperty("script").GetString());
        Assert.Equal("succeeded", first.GetProperty("outcome").GetString());
        Assert.Equal("CREATE TABLE h (id int);\nSELECT 1;", first.GetProperty("text").GetString());
        Assert.Equal(2, first.GetProperty("headStatements").GetInt32());
        Assert.Equal(0, (await other.GetFromJsonAsync<JsonElement>("/api/v1/runs/history")).GetArrayLength());
    }

    [Fact]
    public async Task RunningATestOfAProjectReplaysInitAndSeedOnceThenIsHot()
    {
        using var client = await ClientAsync();
        var files = new[]
        {
            new { path = "init/01_schema.sql", content = "CREATE TABLE pets (id int PRIMARY KEY, name text);" },
            new { path = "seed/01_pets.sql", content = "INSERT INTO pets VALUES (1, 'Rex'), (2, 'Tom');" },
            new { path = "test/01_count.sql", content = "SELECT count(*) FROM pets;" },
        };

        var first = await (await client.PostAsJsonAsync("/api/v1/runs", new { files, run = "test/01_count.sql" })).Content.ReadFromJsonAsync<JsonElement>();
        var second = await (await client.PostAsJsonAsync("/api/v1/runs", new { files, run = "test/01_count.sql" })).Content.ReadFromJsonAsync<JsonElement>();

        // A new instance is in the base state already: the tail is replayed on it.
        Assert.Equal("continued on the instance, replayed 2 statements", first.GetProperty("plan").GetProperty("description").GetString());
        Assert.Equal("2", first.GetProperty("statements")[2].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());
        // The count changed nothing, so the instance is still where the test starts: the rerun is hot.
        Assert.Equal("hot", second.GetProperty("plan").GetProperty("description").GetString());
        Assert.Equal(["cached", "cached", "executed"], second.GetProperty("statements").EnumerateArray().Select(s => s.GetProperty("status").GetString()));

        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("taidon_runs_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("plan=\"hot\"", metrics, StringComparison.Ordinal);
        Assert.Contains("taidon_cache_lookups_total{", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARerunShowsTheCachedStatementsWithWhatTheyDidWhenTheyRan()
    {
        using var client = await ClientAsync();
        object[] Files(string test) =>
        [
            new { path = "init/01_schema.sql", content = "CREATE TABLE pets (id int PRIMARY KEY, name text);" },
            new { path = "seed/01_pets.sql", content = "INSERT INTO pets VALUES (1, 'Rex'), (2, 'Tom');\nDO $$ BEGIN INSERT INTO pets VALUES (3, 'Kit'); RAISE NOTICE 'seeded'; END $$;" },
            new { path = "test/01_count.sql", content = test },
        ];

        await client.PostAsJsonAsync("/api/v1/runs", new { files = Files("SELECT count(*) FROM pets;"), run = "test/01_count.sql" });
        var edited = await (await client.PostAsJsonAsync("/api/v1/runs", new { files = Files("SELECT max(id) FROM pets;"), run = "test/01_count.sql" }))
            .Content.ReadFromJsonAsync<JsonElement>();

        var statements = edited.GetProperty("statements");
        Assert.Equal(["cached", "cached", "cached", "executed"], statements.EnumerateArray().Select(s => s.GetProperty("status").GetString()));
        Assert.Equal("CREATE TABLE", statements[0].GetProperty("commandTag").GetString());
        Assert.Equal("INSERT 0 2", statements[1].GetProperty("commandTag").GetString());
        Assert.Equal(2, statements[1].GetProperty("rowsAffected").GetInt64());
        Assert.Equal("NOTICE: seeded", statements[2].GetProperty("notices")[0].GetString());
        Assert.Equal("3", statements[3].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());
    }

    [Fact]
    public async Task ARunCanBeFollowedAndStoppedByItsOwnerAlone()
    {
        using var owner = await ClientAsync();
        using var stranger = await ClientAsync();
        var runId = Guid.NewGuid();

        var running = owner.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE t (id int);\nSELECT pg_sleep(4.5);\nINSERT INTO t VALUES (1);", runId });
        JsonElement progress = default;
        for (var i = 0; i < 200 && progress.ValueKind == JsonValueKind.Undefined; i++)
        {
            var poll = await owner.GetAsync($"/api/v1/runs/{runId}");
            if (poll.StatusCode == HttpStatusCode.OK && (await poll.Content.ReadFromJsonAsync<JsonElement>()) is { } p && p.GetProperty("current").GetInt32() == 2)
            {
                progress = p;
            }
            else
            {
                await Task.Delay(50);
            }
        }

        Assert.True(progress.ValueKind == JsonValueKind.Object, running.IsCompleted ? await (await running).Content.ReadAsStringAsync() : "still running, never seen");
        Assert.Equal("running", progress.GetProperty("phase").GetString());
        Assert.Equal(3, progress.GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/runs/{runId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/api/v1/runs/{runId}/stop", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await owner.PostAsync($"/api/v1/runs/{runId}/stop", null)).StatusCode);

        var run = await (await running).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(run.GetProperty("stopped").GetBoolean());
        Assert.Equal(runId.ToString(), run.GetProperty("runId").GetString());
        var statements = run.GetProperty("statements");
        Assert.Equal(["executed", "error", "skipped"], statements.EnumerateArray().Select(s => s.GetProperty("status").GetString()));
        Assert.Equal("57014", statements[1].GetProperty("error").GetProperty("sqlState").GetString());
        Assert.True(statements[1].GetProperty("durationMs").GetDouble() < 4000, "the sleep was cancelled on the server");
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/api/v1/runs/{runId}")).StatusCode);
    }

    [Fact]
    public async Task AnInstanceIsResetToTheStateBeforeAStatementAndRestartedWithItsState()
    {
        using var client = await ClientAsync();
        const string script = "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);";
        var ran = await (await client.PostAsJsonAsync("/api/v1/runs", new { script })).Content.ReadFromJsonAsync<JsonElement>();
        var id = ran.GetProperty("instanceId").GetString();

        var reset = await client.PostAsJsonAsync($"/api/v1/instances/{id}/reset", new { script, beforeStatement = 2 });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        var restarted = await (await client.PostAsync($"/api/v1/instances/{id}/restart", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((await reset.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("stateKey").GetString(), restarted.GetProperty("stateKey").GetString());

        // The instance stands after the first INSERT: a query there is hot and sees one row.
        var read = await (await client.PostAsJsonAsync($"/api/v1/instances/{id}/runs",
            new { script = "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\nSELECT count(*) FROM t;", head = new { start = 2 } })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("hot", read.GetProperty("plan").GetProperty("description").GetString());
        Assert.Equal("1", read.GetProperty("statements")[2].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());

        var missing = await client.PostAsJsonAsync($"/api/v1/instances/{id}/reset", new { script });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var toBase = await client.PostAsync($"/api/v1/instances/{id}/reset", null);
        Assert.Equal(HttpStatusCode.OK, toBase.StatusCode);
        Assert.Equal(ran.GetProperty("plan").GetProperty("fromKey").GetString(), (await toBase.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("stateKey").GetString());
    }

    [Fact]
    public async Task AnErrorNamesTheFileLineAndColumn()
    {
        using var client = await ClientAsync();

        var run = await (await client.PostAsJsonAsync("/api/v1/runs", new { script = "SELECT 1;\nSELECT\n  nosuch;", path = "test/broken.sql" })).Content.ReadFromJsonAsync<JsonElement>();

        var error = run.GetProperty("statements")[1].GetProperty("error");
        Assert.Equal("42703", error.GetProperty("sqlState").GetString());
        Assert.Equal("test/broken.sql", error.GetProperty("file").GetString());
        Assert.Equal(3, error.GetProperty("line").GetInt32());
        Assert.Equal(3, error.GetProperty("column").GetInt32());
        Assert.False(run.GetProperty("succeeded").GetBoolean());
    }

    [Fact]
    public async Task TheInstanceQuotaIsNamedWhenReachedAndInstancesArePrivate()
    {
        using var owner = await ClientAsync();
        var created = await owner.PostAsync("/api/v1/instances", null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var refused = await owner.PostAsync("/api/v1/instances", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("instances per account", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("limit").GetString());

        using var stranger = await ClientAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/instances/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsJsonAsync($"/api/v1/instances/{id}/runs", new { script = "SELECT 1" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"/api/v1/instances/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/v1/instances/{id}")).StatusCode);
    }

    [Fact]
    public async Task AnIdleInstanceIsStoppedAndComesBackWithItsDataAndAnExpiredOneIsDeleted()
    {
        using var client = await ClientAsync();
        var first = await (await client.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE kept (id int);\nINSERT INTO kept VALUES (42);" })).Content.ReadFromJsonAsync<JsonElement>();
        var id = Guid.Parse(first.GetProperty("instanceId").GetString()!);
        await using (var db = await Db())
        {
            await db.Instances.Where(i => i.Id == id).ExecuteUpdateAsync(s => s.SetProperty(i => i.LastActivityAt, DateTimeOffset.UtcNow.AddHours(-1)));
        }

        var sweep = await Lifecycle().SweepAsync(CancellationToken.None);

        Assert.Equal(1, sweep.Stopped);
        Assert.False(await _app.Services.GetRequiredService<IInstanceRuntime>().IsRunningAsync(id, CancellationToken.None));
        Assert.Equal("stopped", (await client.GetFromJsonAsync<JsonElement>($"/api/v1/instances/{id}")).GetProperty("state").GetString());

        // Scale to zero and back: the next run starts it, in the state it had.
        var again = await (await client.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE kept (id int);\nINSERT INTO kept VALUES (42);\nSELECT id FROM kept;", head = new { start = 2 } })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("hot", again.GetProperty("plan").GetProperty("description").GetString());
        Assert.Equal("42", again.GetProperty("statements")[2].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());

        await using (var db = await Db())
        {
            await db.Instances.Where(i => i.Id == id).ExecuteUpdateAsync(s => s.SetProperty(i => i.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1)));
        }

        Assert.Equal(1, (await Lifecycle().SweepAsync(CancellationToken.None)).Deleted);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/instances/{id}")).StatusCode);
    }

    [Fact]
    public async Task WhileMemoryIsShortAnInstanceIdleForTwoMinutesIsStoppedThoughItsPlanAllowsFifteen()
    {
        using var client = await ClientAsync();
        var first = await (await client.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE kept (id int);" })).Content.ReadFromJsonAsync<JsonElement>();
        var id = Guid.Parse(first.GetProperty("instanceId").GetString()!);
        await using (var db = await Db())
        {
            await db.Instances.Where(i => i.Id == id).ExecuteUpdateAsync(s => s.SetProperty(i => i.LastActivityAt, DateTimeOffset.UtcNow.AddMinutes(-3)));
        }

        // Memory is read from /proc on the machine; here the reading is given, as a full machine would give it.
        var plenty = new GivenMemory(new MachineLoad(2, 1.0, 12L << 30, 24L << 30));
        var scarce = new GivenMemory(new MachineLoad(2, 1.0, 1L << 30, 24L << 30));

        Assert.Equal(0, (await Lifecycle(plenty).SweepAsync(CancellationToken.None)).Stopped);
        Assert.True(await _app.Services.GetRequiredService<IInstanceRuntime>().IsRunningAsync(id, CancellationToken.None));

        Assert.Equal(1, (await Lifecycle(scarce).SweepAsync(CancellationToken.None)).Stopped);
        Assert.False(await _app.Services.GetRequiredService<IInstanceRuntime>().IsRunningAsync(id, CancellationToken.None));
        var stopped = (await _app.Services.GetRequiredService<Taidon.Core.Audit.IAuditTrail>().SearchAsync(new Taidon.Core.Audit.AuditFilter(null, null, Instance.AuditTarget(id), null, null), null, 10, CancellationToken.None));
        Assert.Contains(stopped, e => e.Detail != null && e.Detail.Contains("memory short (1024 of 24576 MB available)", StringComparison.Ordinal));
    }

    private sealed class GivenMemory(MachineLoad load) : IMachineLoad
    {
        public MachineLoad Read() => load;
    }

    [Fact]
    public async Task ReconciliationRemovesOrphansAndMarksDeadAndMissingInstances()
    {
        using var client = await ClientAsync();
        var run = await (await client.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE t (id int);" })).Content.ReadFromJsonAsync<JsonElement>();
        var id = Guid.Parse(run.GetProperty("instanceId").GetString()!);
        var runtime = _app.Services.GetRequiredService<IInstanceRuntime>();
        var orphan = Guid.NewGuid();
        await runtime.CreateAsync(orphan, new InstanceLimits(), CancellationToken.None);
        Directory.SetLastWriteTimeUtc(Path.Combine(_app.DataDirectory!, "instances", orphan.ToString("N")), DateTime.UtcNow - InstanceReconciliation.OrphanAge - TimeSpan.FromMinutes(1));
        var pidFile = Path.Combine(_app.DataDirectory!, "instances", id.ToString("N"), "pgdata", "postmaster.pid");
        System.Diagnostics.Process.GetProcessById(int.Parse(File.ReadLines(pidFile).First(), System.Globalization.CultureInfo.InvariantCulture)).Kill();
        await Task.Delay(500);

        var report = await _app.Services.GetRequiredService<InstanceReconciliation>().ReconcileAsync(CancellationToken.None);

        Assert.Equal(1, report.OrphansRemoved);
        Assert.Equal(1, report.MarkedStopped);
        Assert.False(Directory.Exists(Path.Combine(_app.DataDirectory!, "instances", orphan.ToString("N"))));
        Assert.Equal("stopped", (await client.GetFromJsonAsync<JsonElement>($"/api/v1/instances/{id}")).GetProperty("state").GetString());

        // An instance whose data is gone is marked failed and rebuilt, empty, on its next run.
        await runtime.DeleteAsync(id, CancellationToken.None);
        Assert.Equal(1, (await _app.Services.GetRequiredService<InstanceReconciliation>().ReconcileAsync(CancellationToken.None)).MarkedFailed);
        var rebuilt = await (await client.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE t (id int);\nSELECT count(*) FROM t;" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(rebuilt.GetProperty("succeeded").GetBoolean());
        Assert.Equal(id.ToString(), rebuilt.GetProperty("instanceId").GetString());
    }

    [Fact]
    public async Task ReconciliationLooksAgainAtAnInstanceOnlyOnceTheOperationHoldingItIsDone()
    {
        using var client = await ClientAsync();
        var run = await (await client.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE t (id int);" })).Content.ReadFromJsonAsync<JsonElement>();
        var id = Guid.Parse(run.GetProperty("instanceId").GetString()!);
        var pidFile = Path.Combine(_app.DataDirectory!, "instances", id.ToString("N"), "pgdata", "postmaster.pid");
        System.Diagnostics.Process.GetProcessById(int.Parse(File.ReadLines(pidFile).First(), System.Globalization.CultureInfo.InvariantCulture)).Kill();
        await Task.Delay(500);

        // An operation (a run, a restore: on this replica or another) holds the instance and starts it again.
        var held = await _app.Services.GetRequiredService<IInstanceGate>().EnterAsync(id, CancellationToken.None);
        var reconciling = _app.Services.GetRequiredService<InstanceReconciliation>().ReconcileAsync(CancellationToken.None);
        await Task.Delay(300);
        Assert.False(reconciling.IsCompleted);
        await _app.Services.GetRequiredService<IInstanceRuntime>().StartAsync(id, new InstanceLimits(), CancellationToken.None);
        await held.DisposeAsync();

        Assert.Equal(0, (await reconciling).MarkedStopped);
        Assert.Equal("running", (await client.GetFromJsonAsync<JsonElement>($"/api/v1/instances/{id}")).GetProperty("state").GetString());
    }

    private InstanceLifecycle Lifecycle() => _app.Services.GetRequiredService<InstanceLifecycle>();

    private InstanceLifecycle Lifecycle(IMachineLoad machine) => ActivatorUtilities.CreateInstance<InstanceLifecycle>(_app.Services, machine);

    private Task<ControlPlaneDbContext> Db() =>
        _app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();

    [Theory]
    [InlineData("run journal")]
    [InlineData("statement outcomes")]
    public async Task ARunWhoseRecordCouldNotBeWrittenIsNotTrustedByTheNext(string failing)
    {
        // The control plane times out as the run's record (or its statements' outcomes) is written: the view exists in the instance, the record names the state before it.
        var timeout = new FailingOnce();
        await using var app = _app.WithWebHostBuilder(web => web.ConfigureServices(services =>
        {
            if (failing == "run journal")
            {
                timeout.Around<Taidon.Core.Runs.IRunJournal>(services, real => new Journal(timeout, real));
            }
            else
            {
                timeout.Around<Taidon.Core.Runs.IStatementOutcomeStore>(services, real => new Outcomes(timeout, real));
            }
        }));
        using var client = app.CreateClient();
        var token = (await (await client.PostAsync("/api/v1/anonymous", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        const string Script = "CREATE VIEW answer AS SELECT 42 AS n;\nSELECT n FROM answer;";

        timeout.FailNext = true;
        using var unrecorded = await client.PostAsJsonAsync("/api/v1/runs", new { script = Script });
        using var again = await client.PostAsJsonAsync("/api/v1/runs", new { script = Script });

        Assert.False(timeout.FailNext);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unrecorded.StatusCode);
        Assert.NotNull(unrecorded.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var run = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(run.GetProperty("succeeded").GetBoolean(), run.ToString());
    }

    /// <summary>A control-plane store whose next write fails as a timed-out control plane does.</summary>
    private sealed class FailingOnce
    {
        public volatile bool FailNext;

        /// <summary>Puts <paramref name="wrap"/> around the app's registration of <typeparamref name="T"/>.</summary>
        public void Around<T>(IServiceCollection services, Func<T, T> wrap)
            where T : class
        {
            var real = services.Single(d => d.ServiceType == typeof(T));
            services.Remove(real);
            services.AddSingleton(provider => wrap((T)ActivatorUtilities.CreateInstance(provider, real.ImplementationType!)));
        }

        public Task Write(Func<Task> write)
        {
            if (FailNext)
            {
                FailNext = false;
                throw new Npgsql.NpgsqlException("The operation has timed out", new TimeoutException());
            }

            return write();
        }
    }

    private sealed class Journal(FailingOnce timeout, Taidon.Core.Runs.IRunJournal real) : Taidon.Core.Runs.IRunJournal
    {
        public Task RecordAsync(Taidon.Core.Runs.RunRecord run, CancellationToken cancellationToken) =>
            timeout.Write(() => real.RecordAsync(run, cancellationToken));

        public Task<IReadOnlyList<(Taidon.Core.SqlChain.ChainKey Before, Taidon.Core.SqlChain.ChainKey After)>> NoOpsFromAsync(IReadOnlyCollection<Taidon.Core.SqlChain.ChainKey> before, CancellationToken cancellationToken) =>
            real.NoOpsFromAsync(before, cancellationToken);

        public Task<IReadOnlyList<Taidon.Core.Runs.RunHistoryEntry>> HistoryAsync(string ownerId, int take, CancellationToken cancellationToken) =>
            real.HistoryAsync(ownerId, take, cancellationToken);

        public Task<IReadOnlyList<Taidon.Core.Runs.RunTally>> TallySinceAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
            real.TallySinceAsync(since, cancellationToken);
    }

    private sealed class Outcomes(FailingOnce timeout, Taidon.Core.Runs.IStatementOutcomeStore real) : Taidon.Core.Runs.IStatementOutcomeStore
    {
        public Task<IReadOnlyDictionary<Taidon.Core.SqlChain.ChainKey, Taidon.Core.Runs.RecordedOutcome>> FindAsync(IReadOnlyCollection<Taidon.Core.SqlChain.ChainKey> keys, CancellationToken cancellationToken) =>
            real.FindAsync(keys, cancellationToken);

        public Task RecordAsync(IReadOnlyCollection<KeyValuePair<Taidon.Core.SqlChain.ChainKey, Taidon.Core.Runs.RecordedOutcome>> outcomes, CancellationToken cancellationToken) =>
            timeout.Write(() => real.RecordAsync(outcomes, cancellationToken));

        public Task<int> ForgetAsync(DateTimeOffset before, CancellationToken cancellationToken) => real.ForgetAsync(before, cancellationToken);
    }

    private Task<HttpClient> ClientAsync() => _app.GuestApiClientAsync();
}
