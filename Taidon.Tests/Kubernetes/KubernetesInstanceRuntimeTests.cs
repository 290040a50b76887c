using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Taidon.Core.Common;
using Taidon.Core.Instances;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.KubernetesRuntime;
using Taidon.Tests.Support;

namespace Taidon.Tests.Kubernetes;

/// <summary>
/// The Kubernetes runtime against a fake API server over real HTTP: what it sends (names, labels, limits,
/// security context, dataSource), and how it reads the cluster back (watches, failures, 404, 409, retries).
/// </summary>
public sealed class KubernetesInstanceRuntimeTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string Namespace = TestNamespace.Name;
    private const string Pods = TestNamespace.Pods;
    private const string Volumes = TestNamespace.Volumes;
    private const string Secrets = TestNamespace.Secrets;
    private const string Snapshots = TestNamespace.Snapshots;

    private static readonly EngineIdentity Engine = EngineIdentity.PostgreSql(15);
    private static readonly InstanceLimits Limits = new(MaxConnections: 5, StatementTimeout: TimeSpan.FromSeconds(3), Cpu: "500m", Memory: "256Mi", StorageMegabytes: 2048, Owner: "account-7");

    private readonly KubernetesOptions _options = new()
    {
        Namespace = Namespace,
        StorageClassName = "csi-hostpath-sc",
        VolumeSnapshotClassName = "csi-hostpath-snapclass",
        InstanceImage = "registry.school.test/postgres:15-bookworm",
        StartTimeoutSeconds = 10,
        NodeSelector = { "disk=ssd" },
        Tolerations = { new InstanceToleration { Key = "taidon.io/instances", Operator = "Exists", Effect = "NoSchedule" } },
        ImagePullSecrets = { "mirror-login" },
    };

    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private FakeKubernetesApi _api = null!;
    private InstanceCluster _cluster = null!;
    private KubernetesInstanceRuntime _runtime = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync();
        _runtime = NewRuntime();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _api.DisposeAsync();
        await _meters.DisposeAsync();
    }

    [Fact]
    public async Task ANewInstanceIsAPodOnAVolumeFromTheBaseStateSnapshot()
    {
        var id = Guid.NewGuid();

        var connection = await _runtime.CreateAsync(id, Limits, CancellationToken.None);

        // The base state was built once by a throw-away pod on an empty volume, then snapshotted.
        var baseLayer = Assert.Single(_api.List(Snapshots));
        Assert.Equal("layer-" + Engine.Root, Name(baseLayer));
        Assert.StartsWith("instance-", baseLayer["spec"]!["source"]!["persistentVolumeClaimName"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("csi-hostpath-snapclass", baseLayer["spec"]!["volumeSnapshotClassName"]!.GetValue<string>());
        Assert.Equal(Engine.Root.ToString(), baseLayer["metadata"]!["annotations"]!["taidon.io/chain-key"]!.GetValue<string>());
        Assert.True(_runtime.HasLayer(Engine.Root));

        // Only the instance's objects are left: the builder's pod, volume and secret are gone.
        var pod = Assert.Single(_api.List(Pods));
        var volume = Assert.Single(_api.List(Volumes));
        var secret = Assert.Single(_api.List(Secrets));
        Assert.Equal("instance-" + id.ToString("N"), Name(pod));
        Assert.Equal(Name(pod), Name(secret));

        // Labels: app.kubernetes.io/*, the instance, the account, the state; raw values in annotations.
        var labels = pod["metadata"]!["labels"]!;
        Assert.Equal("taidon-instance", labels["app.kubernetes.io/name"]!.GetValue<string>());
        Assert.Equal("instance", labels["app.kubernetes.io/component"]!.GetValue<string>());
        Assert.Equal("taidon", labels["app.kubernetes.io/managed-by"]!.GetValue<string>());
        Assert.Equal(id.ToString("N"), labels["taidon.io/instance"]!.GetValue<string>());
        Assert.Equal("account-7", labels["taidon.io/account"]!.GetValue<string>());
        Assert.Equal(Engine.Root.Short, labels["taidon.io/state"]!.GetValue<string>());
        Assert.Equal(Engine.Root.ToString(), pod["metadata"]!["annotations"]!["taidon.io/state-key"]!.GetValue<string>());

        // The volume comes from the base state's snapshot, with the quota's size and the configured class.
        Assert.Equal("layer-" + Engine.Root, volume["spec"]!["dataSource"]!["name"]!.GetValue<string>());
        Assert.Equal("VolumeSnapshot", volume["spec"]!["dataSource"]!["kind"]!.GetValue<string>());
        Assert.Equal("snapshot.storage.k8s.io", volume["spec"]!["dataSource"]!["apiGroup"]!.GetValue<string>());
        Assert.Equal("csi-hostpath-sc", volume["spec"]!["storageClassName"]!.GetValue<string>());
        Assert.Equal((2048L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), volume["spec"]!["resources"]!["requests"]!["storage"]!.GetValue<string>());
        Assert.Equal(Name(volume), pod["spec"]!["volumes"]![0]!["persistentVolumeClaim"]!["claimName"]!.GetValue<string>());

        // Locked down: non-root, no capabilities, RuntimeDefault seccomp, no token, no escalation, read-only root.
        var spec = pod["spec"]!;
        Assert.False(spec["automountServiceAccountToken"]!.GetValue<bool>());
        Assert.True(spec["securityContext"]!["runAsNonRoot"]!.GetValue<bool>());
        Assert.Equal(999, spec["securityContext"]!["runAsUser"]!.GetValue<int>());
        Assert.Equal("RuntimeDefault", spec["securityContext"]!["seccompProfile"]!["type"]!.GetValue<string>());
        var container = spec["containers"]![0]!;
        Assert.Equal("registry.school.test/postgres:15-bookworm", container["image"]!.GetValue<string>());
        Assert.False(container["securityContext"]!["allowPrivilegeEscalation"]!.GetValue<bool>());
        Assert.True(container["securityContext"]!["readOnlyRootFilesystem"]!.GetValue<bool>());
        Assert.Equal(["ALL"], container["securityContext"]!["capabilities"]!["drop"]!.AsArray().Select(n => n!.GetValue<string>()));

        // Requests and limits from the quota: CPU limit 500m and a quarter of it requested, memory whole.
        Assert.Equal("500m", container["resources"]!["limits"]!["cpu"]!.GetValue<string>());
        Assert.Equal("125m", container["resources"]!["requests"]!["cpu"]!.GetValue<string>());
        Assert.Equal("256Mi", container["resources"]!["limits"]!["memory"]!.GetValue<string>());
        Assert.Equal("256Mi", container["resources"]!["requests"]!["memory"]!.GetValue<string>());
        Assert.Contains("statement_timeout=3000", container["args"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Contains("max_connections=8", container["args"]!.AsArray().Select(n => n!.GetValue<string>()));

        // Node affinity and tolerations for the fast-disk nodes, from the settings.
        var term = spec["affinity"]!["nodeAffinity"]!["requiredDuringSchedulingIgnoredDuringExecution"]!["nodeSelectorTerms"]![0]!["matchExpressions"]![0]!;
        Assert.Equal("disk", term["key"]!.GetValue<string>());
        Assert.Equal("ssd", term["values"]![0]!.GetValue<string>());
        Assert.Equal("Exists", spec["tolerations"]![0]!["operator"]!.GetValue<string>());
        // The image comes from a mirror that asks for a login: the kubelet pulls it with the Secret from the settings.
        Assert.Equal("mirror-login", spec["imagePullSecrets"]![0]!["name"]!.GetValue<string>());

        // The password reaches the pod only through the Secret, and the connection through the pod's address.
        Assert.Equal(Name(secret), container["env"]!.AsArray().Single(e => e!["name"]!.GetValue<string>() == "TAIDON_STUDENT_PASSWORD")!["valueFrom"]!["secretKeyRef"]!["name"]!.GetValue<string>());
        Assert.DoesNotContain(connection.Password, pod.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(pod["status"]!["podIP"]!.GetValue<string>(), connection.Host);
        Assert.Equal((5432, "workspace", "student"), (connection.Port, connection.Database, connection.User));
        Assert.True(await _runtime.IsRunningAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task ALayerIsASnapshotOfTheStoppedVolumeAndARestoreIsANewVolumeFromIt()
    {
        var id = Guid.NewGuid();
        await _runtime.CreateAsync(id, Limits, CancellationToken.None);
        var key = Engine.Root.Next("CREATE TABLE t (id int)");
        var first = Name(Assert.Single(_api.List(Volumes)));
        var mark = _api.Requests.Count;

        var layer = await (await _runtime.CaptureAsync(id, key, Engine.Root, Limits, CancellationToken.None)).Published;

        // The pod was deleted (PostgreSQL shuts down, the kubelet unmounts) before the snapshot, and made again after.
        var during = _api.Requests.Skip(mark).Select(r => $"{r.Method} {r.Path.Split('?')[0]}").Where(r => !r.StartsWith("GET", StringComparison.Ordinal)).ToList();
        Assert.True(during.IndexOf($"DELETE {Pods}/instance-{id:N}") < during.IndexOf($"POST {Snapshots}"));
        Assert.True(during.IndexOf($"POST {Snapshots}") < during.LastIndexOf($"POST {Pods}"));
        var snapshot = _api.Find(Snapshots, "layer-" + key)!;
        Assert.Equal(first, snapshot["spec"]!["source"]!["persistentVolumeClaimName"]!.GetValue<string>());
        Assert.Equal(Engine.Root.ToString(), snapshot["metadata"]!["annotations"]!["taidon.io/parent-key"]!.GetValue<string>());
        Assert.Equal(key.Short, snapshot["metadata"]!["labels"]!["taidon.io/state"]!.GetValue<string>());
        Assert.Equal((key, Engine.Root, 1L << 30), (layer.Key, layer.Parent, layer.SizeBytes));
        Assert.True(_runtime.HasLayer(key));
        Assert.Contains(_runtime.Layers.List(), l => l.Key == key);
        Assert.True(await _runtime.IsRunningAsync(id, CancellationToken.None));

        // Another instance restores the layer: a new volume from its snapshot, the pod moved to it, the old volume gone.
        var other = Guid.NewGuid();
        await _runtime.CreateAsync(other, Limits, CancellationToken.None);
        var before = Name(Assert.Single(_api.List(Volumes), v => Name(v).StartsWith($"instance-{other:N}", StringComparison.Ordinal)));

        await _runtime.RestoreAsync(other, key, Limits, CancellationToken.None);

        var volumes = _api.List(Volumes).Where(v => Name(v).StartsWith($"instance-{other:N}", StringComparison.Ordinal)).ToList();
        var restored = Assert.Single(volumes);
        Assert.NotEqual(before, Name(restored));
        Assert.Equal("layer-" + key, restored["spec"]!["dataSource"]!["name"]!.GetValue<string>());
        var pod = _api.Find(Pods, $"instance-{other:N}")!;
        Assert.Equal(Name(restored), pod["spec"]!["volumes"]![0]!["persistentVolumeClaim"]!["claimName"]!.GetValue<string>());
        Assert.Equal(key.Short, pod["metadata"]!["labels"]!["taidon.io/state"]!.GetValue<string>());
        Assert.False(_runtime.Layers.IsInUse(key));

        // Evicting the layer deletes its snapshot; the base state stays.
        Assert.True(await _runtime.Layers.RemoveAsync(key, CancellationToken.None));
        Assert.Null(_api.Find(Snapshots, "layer-" + key));
        Assert.False(_runtime.HasLayer(key));
        Assert.True(_runtime.HasLayer(Engine.Root));
    }

    [Fact]
    public async Task StopDeletesThePodAndKeepsTheVolumeAndDeleteRemovesEverythingEvenTwice()
    {
        var id = Guid.NewGuid();
        await _runtime.CreateAsync(id, Limits, CancellationToken.None);

        await _runtime.StopAsync(id, CancellationToken.None);

        Assert.Null(_api.Find(Pods, $"instance-{id:N}"));
        Assert.Single(_api.List(Volumes));
        Assert.False(await _runtime.IsRunningAsync(id, CancellationToken.None));
        Assert.Equal(1, (await _runtime.ListAsync(CancellationToken.None)).Count(i => i.Id == id));

        // Started again, on the same volume, with the same password.
        var connection = await _runtime.StartAsync(id, Limits, CancellationToken.None);
        Assert.True(await _runtime.IsRunningAsync(id, CancellationToken.None));

        await _runtime.DeleteAsync(id, CancellationToken.None);
        await _runtime.DeleteAsync(id, CancellationToken.None); // every object answers 404 now: done, not an error
        await _runtime.StopAsync(id, CancellationToken.None);

        Assert.Empty(_api.List(Pods));
        Assert.Empty(_api.List(Volumes));
        Assert.Empty(_api.List(Secrets));
        Assert.Contains(_api.Requests, r => r.Method == "DELETE" && r.Path.StartsWith($"{Secrets}/instance-{id:N}", StringComparison.Ordinal));
        Assert.NotEmpty(connection.Password);
        Assert.DoesNotContain(await _runtime.ListAsync(CancellationToken.None), i => i.Id == id);
    }

    [Fact]
    public async Task APodThatCannotStartFailsTheStartWithTheReasonAndWhereToLook()
    {
        _api.FailingImages.Add(_options.InstanceImage);

        var failure = await Assert.ThrowsAsync<InstanceUnavailableException>(() => _runtime.CreateAsync(Guid.NewGuid(), Limits, CancellationToken.None));

        Assert.Contains("ErrImagePull", failure.Message, StringComparison.Ordinal);
        Assert.Contains("pull access denied", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"kubectl -n {Namespace} describe pod", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APodThatIsNeverReadyTimesOutSayingWhichSettingSetsTheWait()
    {
        _options.StartTimeoutSeconds = 1;
        _api.KubeletRuns = false;

        var failure = await Assert.ThrowsAsync<InstanceUnavailableException>(() => _runtime.CreateAsync(Guid.NewGuid(), Limits, CancellationToken.None));

        Assert.Contains("was not ready after 1 s", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Taidon:Kubernetes:StartTimeoutSeconds", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AThousandStartsAndRestoresCostAFewApiCallsEachAndNoMoreRunAtOnceThanTheBound()
    {
        _options.ConcurrentStarts = 16;
        await using var cluster = NewCluster();
        var runtime = new KubernetesInstanceRuntime(cluster, new VolumeSnapshotLayers(cluster), Engine, NullLogger<KubernetesInstanceRuntime>.Instance);
        // The base state and one layer exist: what a class restores.
        var first = Guid.NewGuid();
        await runtime.CreateAsync(first, Limits, CancellationToken.None);
        var key = Engine.Root.Next("create table t(id int)");
        await runtime.CaptureAsync(first, key, Engine.Root, Limits, CancellationToken.None);
        for (var tries = 0; !runtime.HasLayer(key) && tries < 200; tries++)
        {
            await Task.Delay(50);
        }

        var ids = Enumerable.Range(0, 1000).Select(_ => Guid.NewGuid()).ToList();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 200 };

        var mark = _api.Requests.Count;
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        await Parallel.ForEachAsync(ids, parallel, async (id, ct) => await runtime.CreateAsync(id, Limits, ct));
        var created = _api.Requests.Skip(mark).ToList();
        var createCpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu;
        mark = _api.Requests.Count;
        cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        await Parallel.ForEachAsync(ids, parallel, async (id, ct) => await runtime.RestoreAsync(id, key, Limits, ct));
        var restored = _api.Requests.Skip(mark).ToList();
        var restoreCpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu;

        // The CPU of this process per start: the runtime's and the fake API server's together (both run here),
        // an upper bound of what a start costs the app (docs/benchmarks.md has the figure of a run alone).
        output.WriteLine($"CPU per create: {createCpu.TotalMilliseconds / ids.Count:0.00} ms, per restore: {restoreCpu.TotalMilliseconds / ids.Count:0.00} ms " +
            $"(this process: runtime and fake API server); API calls per create {(double)created.Count / ids.Count:0.00}, per restore {(double)restored.Count / ids.Count:0.00}");

        // Per new instance: its volume, its Secret, its pod; per restore, the new volume, the pod deleted, the
        // Secret annotated, the new pod, the old volume deleted. Nothing is read: pods, Secrets and snapshots come
        // from the watches, and a Secret just written is not read again.
        Assert.True(created.Count <= 3 * ids.Count, Calls(created));
        Assert.True(restored.Count <= 5 * ids.Count, Calls(restored));
        Assert.InRange(_api.MostPodsStartingAtOnce, 2, 16);
        Assert.Equal(1001, _api.List(Pods).Count);
    }

    [Fact]
    public async Task AReplicaIsReadyOnceItSeesTheInstancesNamespaceAndNotWhileItsWatchesFail()
    {
        await using var cluster = NewCluster();
        var check = new InstanceClusterHealthCheck(cluster, TimeProvider.System, grace: TimeSpan.Zero);
        Assert.Equal(HealthStatus.Unhealthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        await cluster.StartAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        // The API server stops answering for pods (a Role taken away, a network that broke): the watch ends, listing fails.
        _api.Fail("GET", Pods, HttpStatusCode.ServiceUnavailable, count: 10_000);
        _api.ExpireWatches();
        HealthCheckResult result = default;
        for (var tries = 0; tries < 100 && (result = await check.CheckHealthAsync(new HealthCheckContext())).Status == HealthStatus.Healthy; tries++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("pods", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABusyApiServersRetryAfterIsWaitedForBeforeTheStartIsSentAgain()
    {
        var id = Guid.NewGuid();
        await _runtime.CreateAsync(id, Limits, CancellationToken.None);
        await _runtime.StopAsync(id, CancellationToken.None);
        _api.Fail("POST", Pods, HttpStatusCode.TooManyRequests, count: 1, retryAfterSeconds: 2);
        var mark = _api.Requests.Count;
        var started = System.Diagnostics.Stopwatch.StartNew();

        await _runtime.StartAsync(id, Limits, CancellationToken.None);

        Assert.Equal(2, _api.Requests.Skip(mark).Count(r => r.Method == "POST" && r.Path.StartsWith(Pods, StringComparison.Ordinal)));
        // The backoff alone would have sent it again after about 0.2 s.
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(2), $"sent again after {started.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(await _runtime.IsRunningAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task TransientApiErrorsAreRetriedAndAConflictOnAPodMeansSomeoneStartedItAlready()
    {
        var id = Guid.NewGuid();
        await _runtime.CreateAsync(id, Limits, CancellationToken.None);
        await _runtime.StopAsync(id, CancellationToken.None);
        _api.Fail("POST", Pods, HttpStatusCode.ServiceUnavailable, count: 2);
        var mark = _api.Requests.Count;

        await _runtime.StartAsync(id, Limits, CancellationToken.None);

        Assert.Equal(3, _api.Requests.Skip(mark).Count(r => r.Method == "POST" && r.Path.StartsWith(Pods, StringComparison.Ordinal)));
        Assert.True(await _runtime.IsRunningAsync(id, CancellationToken.None));

        // A second runtime (another replica) that does not know the pod is there gets 409 and waits for that pod.
        await using var replica = NewCluster();
        var other = new KubernetesInstanceRuntime(replica, new VolumeSnapshotLayers(replica), Engine, NullLogger<KubernetesInstanceRuntime>.Instance);
        await _runtime.StopAsync(id, CancellationToken.None);
        var pod = new InstanceManifests(_options).Pod(id, _api.Find(Secrets, $"instance-{id:N}")!["metadata"]!["annotations"]![InstanceNames.VolumeAnnotation]!.GetValue<string>(), Limits, null);
        await replica.Client.CoreV1.CreateNamespacedPodAsync(pod, Namespace);

        var connection = await other.StartAsync(id, Limits, CancellationToken.None);

        Assert.Equal(_api.Find(Pods, $"instance-{id:N}")!["status"]!["podIP"]!.GetValue<string>(), connection.Host);
    }

    [Fact]
    public async Task AFailedSnapshotIsReportedNeverCountsAsALayerAndIsReplacedWhenTakenAgain()
    {
        var id = Guid.NewGuid();
        await _runtime.CreateAsync(id, Limits, CancellationToken.None);
        using var failed = new AppMeasurements(_meters.GetRequiredService<IMeterFactory>(), "taidon.snapshots.failed");
        _api.FailingSnapshotClasses.Add("csi-hostpath-snapclass");
        var key = Engine.Root.Next("SELECT 1");

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => _runtime.CaptureAsync(id, key, Engine.Root, Limits, CancellationToken.None));

        Assert.Contains("failed to cut the snapshot", failure.Message, StringComparison.Ordinal);
        Assert.False(_runtime.HasLayer(key));
        Assert.True(await _runtime.IsRunningAsync(id, CancellationToken.None)); // the instance runs again, as it was
        Assert.Equal(["capture"], failed.TakeTag("kind")); // counted for the alert on failing snapshots

        // Taken again once the driver works: the failed snapshot is replaced, it does not stand in the way.
        _api.FailingSnapshotClasses.Clear();
        await _runtime.CaptureAsync(id, key, Engine.Root, Limits, CancellationToken.None);
        await _cluster.Snapshots.WaitAsync("layer-" + key, VolumeSnapshotLayers.IsReady, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.True(_runtime.HasLayer(key));

        // A restore from a failed one says the layer is damaged (the run replays instead) and removes it.
        _api.FailingSnapshotClasses.Add("csi-hostpath-snapclass");
        var broken = key.Next("SELECT 2");
        await Assert.ThrowsAsync<InvalidOperationException>(() => _runtime.CaptureAsync(id, broken, key, Limits, CancellationToken.None));
        await Assert.ThrowsAsync<SnapshotDamagedException>(() => _runtime.RestoreAsync(id, broken, Limits, CancellationToken.None));
        Assert.Null(_api.Find(Snapshots, "layer-" + broken));
        Assert.Equal(["capture", "restore"], failed.TakeTag("kind"));

        // So does a layer evicted meanwhile (by the collector of another replica): the run plans again.
        await Assert.ThrowsAsync<SnapshotDamagedException>(() => _runtime.RestoreAsync(id, Engine.Root.Next("never taken"), Limits, CancellationToken.None));
        Assert.True(await _runtime.IsRunningAsync(id, CancellationToken.None));
        Assert.Empty(failed.TakeTag("kind")); // an evicted layer is no failure
    }

    [Fact]
    public async Task TheWatchesFollowChangesMadeElsewhereAndComeBackAfterTheServerEndsThem()
    {
        _api.WatchLifetime = TimeSpan.FromMilliseconds(300);
        var id = Guid.NewGuid();
        await _runtime.CreateAsync(id, Limits, CancellationToken.None);
        await Task.Delay(700); // the server has ended the first watches by now

        // A snapshot made by another replica becomes a layer here, from the watch alone.
        var key = Engine.Root.Next("made elsewhere");
        var snapshot = JsonNode.Parse($$$$"""
            {"apiVersion":"snapshot.storage.k8s.io/v1","kind":"VolumeSnapshot",
             "metadata":{"name":"layer-{{{{key}}}}","labels":{"app.kubernetes.io/managed-by":"taidon","app.kubernetes.io/instance":"taidon","app.kubernetes.io/component":"layer"}},
             "spec":{"volumeSnapshotClassName":"csi-hostpath-snapclass","source":{"persistentVolumeClaimName":"elsewhere"}},
             "status":{"readyToUse":true,"restoreSize":"1Gi","creationTime":"2026-11-27T08:00:00Z"}}
            """)!.AsObject();
        _api.Put(Snapshots, snapshot);
        await _cluster.Snapshots.WaitAsync("layer-" + key, s => s is not null, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.True(_runtime.HasLayer(key));

        // A watch cache that moved on (410 Gone) makes the index list again, and it keeps following changes.
        var lists = ListRequests();
        _api.ExpireWatches();
        await _runtime.StopAsync(id, CancellationToken.None);
        await _runtime.StartAsync(id, Limits, CancellationToken.None);
        Assert.True(ListRequests() > lists);
        Assert.True(await _runtime.IsRunningAsync(id, CancellationToken.None));

        // A pod that an operator deleted is seen as stopped.
        await _runtime.StopAsync(id, CancellationToken.None);
        Assert.False(await _runtime.IsRunningAsync(id, CancellationToken.None));
        Assert.True(_api.Requests.Count(r => r.Method == "GET" && r.Path.Contains("watch=true", StringComparison.Ordinal) && r.Path.StartsWith(Pods, StringComparison.Ordinal)) >= 2);
    }

    [Fact]
    public async Task InstancesWithoutARecordAreListedForReconciliationFromAnyOfTheirObjects()
    {
        var orphan = Guid.NewGuid();
        _api.Put(Secrets, JsonNode.Parse($$$$"""
            {"apiVersion":"v1","kind":"Secret","metadata":{"name":"instance-{{{{orphan:N}}}}","creationTimestamp":"2026-01-01T00:00:00Z","labels":{"app.kubernetes.io/managed-by":"taidon","app.kubernetes.io/instance":"taidon","app.kubernetes.io/component":"instance","taidon.io/instance":"{{{{orphan:N}}}}"}}}
            """)!.AsObject());
        // Another installation's instance in the same namespace is not this one's to reconcile.
        var theirs = Guid.NewGuid();
        _api.Put(Secrets, JsonNode.Parse($$$$"""
            {"apiVersion":"v1","kind":"Secret","metadata":{"name":"instance-{{{{theirs:N}}}}","creationTimestamp":"2026-01-01T00:00:00Z","labels":{"app.kubernetes.io/managed-by":"taidon","app.kubernetes.io/instance":"other-school","app.kubernetes.io/component":"instance","taidon.io/instance":"{{{{theirs:N}}}}"}}}
            """)!.AsObject());
        var id = Guid.NewGuid();
        await _runtime.CreateAsync(id, Limits, CancellationToken.None);

        var listed = await _runtime.ListAsync(CancellationToken.None);

        // Each as old as its oldest object: a reconciliation leaves the new one alone while its record is being written.
        Assert.Equal([id, orphan], listed.Select(i => i.Id).OrderBy(g => g == id ? 0 : 1));
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), listed.Single(i => i.Id == orphan).CreatedAt);
        Assert.True(listed.Single(i => i.Id == id).CreatedAt > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal(1, _runtime.CountRunning());
    }

    [Fact]
    public void SettingsNameWhatIsWrong()
    {
        var wrong = new KubernetesOptions
        {
            Namespace = "Not_A_Namespace",
            VolumeSnapshotClassName = "",
            NodeSelector = { "ssd" },
            Tolerations = { new InstanceToleration { Key = "x", Operator = "Maybe" } },
            ImagePullSecrets = { "mirror-login", "Mirror Login" },
        };

        var problems = wrong.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(wrong)).Select(p => p.ErrorMessage!).ToList();

        Assert.Contains(problems, p => p.Contains("Taidon:Kubernetes:Namespace", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Taidon:Kubernetes:VolumeSnapshotClassName", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Taidon:Kubernetes:Tolerations", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'ssd' must be label=value", StringComparison.Ordinal));
        Assert.Single(problems, p => p.Contains("Taidon:Kubernetes:ImagePullSecrets: 'Mirror Login' must name a Secret", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("'mirror-login'", StringComparison.Ordinal));
        Assert.Equal(15, Taidon.Infrastructure.LocalRuntime.EngineIdentityProvider.ImageMajorVersion("registry:5000/postgres:15.4-bookworm"));
        Assert.Null(Taidon.Infrastructure.LocalRuntime.EngineIdentityProvider.ImageMajorVersion("registry:5000/postgres"));
    }

    private int ListRequests() => _api.Requests.Count(r => r.Method == "GET" && r.Path.StartsWith(Pods, StringComparison.Ordinal) && !r.Path.Contains("watch=true", StringComparison.Ordinal));

    private KubernetesInstanceRuntime NewRuntime()
    {
        _cluster = NewCluster();
        var telemetry = new TaidonTelemetry(_meters.GetRequiredService<IMeterFactory>());
        return new KubernetesInstanceRuntime(_cluster, new VolumeSnapshotLayers(_cluster), Engine, NullLogger<KubernetesInstanceRuntime>.Instance, telemetry);
    }

    private InstanceCluster NewCluster() =>
        new(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Url.ToString() }), _options, NullLogger<InstanceCluster>.Instance);

    /// <summary>Requests by method and kind of object, for a failure's message.</summary>
    private static string Calls(IEnumerable<RecordedRequest> requests) =>
        string.Join(", ", requests.GroupBy(r => $"{r.Method} {r.Path.Split('?')[0].Split('/').SkipWhile(p => p != Namespace).Skip(1).FirstOrDefault()}{(r.Path.Contains("watch=", StringComparison.Ordinal) ? " (watch)" : "")}")
            .OrderByDescending(g => g.Count()).Select(g => $"{g.Key}: {g.Count()}"));

    private static string Name(JsonNode obj) => obj["metadata"]!["name"]!.GetValue<string>();
}
