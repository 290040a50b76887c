using Taidon.Core.Snapshots;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Taidon.Core.Instances;
using Taidon.Infrastructure.KubernetesRuntime;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Kubernetes;

/// <summary>The app set to the Kubernetes runtime, against the fake API server: reconciliation, Git tokens as Secrets, settings.</summary>
public sealed class KubernetesAppTests : IAsyncLifetime
{
    private const string Namespace = TestNamespace.Name;
    private const string Pods = TestNamespace.Pods;
    private const string Secrets = TestNamespace.Secrets;

    private readonly string _directory = Directory.CreateTempSubdirectory("taidon-k8s-").FullName;
    private FakeKubernetesApi _api = null!;

    public async Task InitializeAsync() => _api = await FakeKubernetesApi.StartAsync();

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task AtStartPodsWithoutARecordAreDeletedAndRecordsWithoutAnInstanceAreMarkedFailed()
    {
        var orphan = Guid.NewGuid();
        _api.Put(Pods, InstanceObject("Pod", orphan));
        _api.Put(Secrets, InstanceObject("Secret", orphan));
        await using var app = await StartAsync();
        using var client = await app.GuestApiClientAsync(); // the app has started: reconciliation ran

        Assert.Empty(_api.List(Pods));
        Assert.Empty(_api.List(Secrets));
        Assert.IsType<KubernetesInstanceRuntime>(app.Services.GetRequiredService<IInstanceRuntime>());

        // A record whose instance is gone from the cluster is marked failed (rebuilt on its next run).
        var lost = Guid.NewGuid();
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync())
        {
            db.Instances.Add(new Instance { Id = lost, State = InstanceState.Running, CreatedAt = DateTimeOffset.UtcNow, LastActivityAt = DateTimeOffset.UtcNow, ExpiresAt = DateTimeOffset.UtcNow.AddDays(1) });
            await db.SaveChangesAsync();
        }

        // The recurring reconciliation (every five minutes) may get there first when the test crosses one; either way it is marked once.
        await app.Services.GetRequiredService<InstanceReconciliation>().ReconcileAsync(CancellationToken.None);

        Assert.Single(app.Logs.Messages, m => m.Contains($"Instance {lost} has a record but no data", StringComparison.Ordinal));
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync())
        {
            Assert.Equal(InstanceState.Failed, (await db.Instances.SingleAsync(i => i.Id == lost)).State);
        }
    }

    [Fact]
    public async Task GitTokensAreSecretsPerAccountAndHostThatNeverShowTheToken()
    {
        const string Token = "glpat-very-secret-token-42";
        await using var app = await StartAsync();
        using var student = await app.GuestApiClientAsync();

        var saved = await student.PutAsJsonAsync("/api/v1/git/credentials/git.school.test", new { username = "ada", token = Token });

        Assert.True(saved.IsSuccessStatusCode, await saved.Content.ReadAsStringAsync());
        var secret = Assert.Single(_api.List(Secrets));
        Assert.StartsWith("git-", secret["metadata"]!["name"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("git-credential", secret["metadata"]!["labels"]!["app.kubernetes.io/component"]!.GetValue<string>());
        Assert.Equal(Token, Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]!["token"]!.GetValue<string>())));
        Assert.DoesNotContain(Token, secret["metadata"]!.ToJsonString(), StringComparison.Ordinal);
        var listed = await student.GetStringAsync("/api/v1/git/credentials");
        Assert.Contains("git.school.test", listed, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Messages, m => m.Contains(Token, StringComparison.Ordinal));

        // Another account does not see it, and cannot read it by host.
        using var other = await app.GuestApiClientAsync();
        Assert.Equal(0, (await other.GetFromJsonAsync<JsonElement>("/api/v1/git/credentials")).GetArrayLength());

        (await student.DeleteAsync("/api/v1/git/credentials/git.school.test")).EnsureSuccessStatusCode();
        Assert.Empty(_api.List(Secrets));

        // An account deleted by an admin takes its tokens with it.
        (await student.PutAsJsonAsync("/api/v1/git/credentials/git.school.test", new { username = "ada", token = Token })).EnsureSuccessStatusCode();
        var id = (await student.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("id").GetString();
        using var admin = await app.AdminApiClientAsync();
        (await admin.DeleteAsync($"/api/v1/admin/accounts/{id}")).EnsureSuccessStatusCode();
        Assert.Empty(_api.List(Secrets));
    }

    [Fact]
    public async Task AnInstanceThatCannotStartIsA503ThatTellsTheStudentWhatToDoAndTheLogWhy()
    {
        _api.FailingImages.Add("registry.school.test/postgres:15-missing");
        var settings = Settings("csi-hostpath-snapclass");
        settings["Taidon:Kubernetes:InstanceImage"] = "registry.school.test/postgres:15-missing";
        await using var app = await TaidonAppFactory.CreateWithInstancesAsync("k8s-broken", settings);
        using var student = await app.GuestApiClientAsync();

        var response = await student.PostAsJsonAsync("/api/v1/runs", new { script = "SELECT 1;" });

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.Content.ReadAsStringAsync();
        Assert.Contains("Try again in a minute", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("kubectl", problem, StringComparison.Ordinal);
        Assert.Contains(app.Logs.Messages, m => m.Contains("ErrImagePull", StringComparison.Ordinal) && m.Contains("kubectl -n taidon-instances describe pod", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheCacheCollectorAndTheCachePageWorkOnVolumeSnapshotsAndNeverEvictTheBaseState()
    {
        await using var app = await StartAsync();
        using var client = await app.GuestApiClientAsync();
        var runtime = app.Services.GetRequiredService<IInstanceRuntime>();
        var engine = app.Services.GetRequiredService<Taidon.Infrastructure.LocalRuntime.EngineIdentityProvider>().Identity;
        var id = Guid.NewGuid();
        await runtime.CreateAsync(id, new InstanceLimits(), CancellationToken.None);
        var first = engine.Root.Next("CREATE TABLE a (id int)");
        var second = first.Next("CREATE TABLE b (id int)");
        await runtime.CaptureAsync(id, first, engine.Root, new InstanceLimits(), CancellationToken.None);
        await runtime.CaptureAsync(id, second, first, new InstanceLimits(), CancellationToken.None);
        var cache = app.Services.GetRequiredService<SnapshotCacheAdministration>();
        Assert.Equal(3, (await cache.OverviewAsync(CancellationToken.None)).Layers.Count);

        var collector = app.Services.GetRequiredService<LayerGarbageCollector>();
        await collector.SetBudgetAsync(1 << 20, CancellationToken.None);
        var collection = await collector.CollectAsync(CancellationToken.None);

        Assert.Equal(2, collection.Evicted);
        var left = Assert.Single(_api.List(TestNamespace.Snapshots));
        Assert.Equal("layer-" + engine.Root, left["metadata"]!["name"]!.GetValue<string>());
        Assert.True(Assert.Single((await cache.OverviewAsync(CancellationToken.None)).Layers).IsBase);
        await runtime.DeleteAsync(id, CancellationToken.None);
    }

    [Fact]
    public async Task AWrongSettingStopsTheAppNamingIt()
    {
        await using var app = new TaidonAppFactory(await TestControlPlane.CreateDatabaseAsync("k8s-bad"), Settings(""));

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains("Taidon:Kubernetes:VolumeSnapshotClassName", error.Message, StringComparison.Ordinal);
    }

    private async Task<TaidonAppFactory> StartAsync() =>
        await TaidonAppFactory.CreateWithInstancesAsync("k8s", Settings("csi-hostpath-snapclass"));

    private Dictionary<string, string?> Settings(string volumeSnapshotClass) => new()
    {
        ["Taidon:Runtime:Kind"] = "Kubernetes",
        ["Taidon:Kubernetes:Namespace"] = Namespace,
        ["Taidon:Kubernetes:VolumeSnapshotClassName"] = volumeSnapshotClass,
        ["Taidon:Kubernetes:Kubeconfig"] = _api.WriteKubeconfig(_directory),
        ["Taidon:Instances:WarmPoolSize"] = "0",
    };

    private static JsonObject InstanceObject(string kind, Guid id) => JsonNode.Parse($$$"""
        {"apiVersion":"v1","kind":"{{{kind}}}","metadata":{"name":"instance-{{{id:N}}}","creationTimestamp":"2026-01-01T00:00:00Z",
         "labels":{"app.kubernetes.io/managed-by":"taidon","app.kubernetes.io/instance":"taidon","app.kubernetes.io/component":"instance","taidon.io/instance":"{{{id:N}}}"}},
         "spec":{"containers":[{"name":"postgres","image":"postgres:15-bookworm"}]}}
        """)!.AsObject();
}
