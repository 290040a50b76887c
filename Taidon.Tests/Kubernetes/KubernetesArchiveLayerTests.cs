using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Taidon.Core.Instances;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.KubernetesRuntime;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Tests.Support;
using static Taidon.Tests.Kubernetes.PodSql;

namespace Taidon.Tests.Kubernetes;

/// <summary>
/// Archive layers on a cluster without CSI snapshots (as k3s with local-path), with pods run for real
/// (<see cref="ProcessKubelet"/>): a layer is a tar of a stopped instance's volume on the layers' claim, made
/// by a one-shot pod and recorded by a ConfigMap; a restore is an empty volume the pod's init container
/// unpacks the archive into.
/// </summary>
public sealed class KubernetesArchiveLayerTests : IAsyncLifetime
{
    private static readonly InstanceLimits Limits = new(MaxConnections: 4, StatementTimeout: TimeSpan.FromSeconds(30), Owner: "account-1");

    private readonly KubernetesOptions _options = new() { Namespace = TestNamespace.Name, LayersClaim = ProcessCluster.LayersClaim, StartTimeoutSeconds = 60 };
    private readonly EngineIdentity _engine = EngineIdentity.PostgreSql(PostgresBinaries.Locate(null).MajorVersion);
    private readonly List<InstanceCluster> _watches = [];
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.StartAsync(snapshots: false);

    public async Task DisposeAsync()
    {
        foreach (var watches in _watches)
        {
            await watches.DisposeAsync();
        }

        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task AnInstanceArchivedAsALayerIsRestoredIntoAnotherWithItsDataAndTheLayerCountsTheArchivesRealBytes()
    {
        var (layers, runtime) = NewRuntime();
        var id = Guid.NewGuid();

        var connection = await runtime.CreateAsync(id, Limits, CancellationToken.None);
        await using (var session = await OpenAsync(connection))
        {
            await ScalarAsync(session, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (1); SELECT 'ok'");
        }

        // An archiving pod a replica left behind when it stopped, ended long ago.
        _cluster.Api.Put(TestNamespace.Pods, System.Text.Json.Nodes.JsonNode.Parse("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"archive-left-over","creationTimestamp":"2026-01-01T00:00:00Z",
             "labels":{"app.kubernetes.io/managed-by":"taidon","app.kubernetes.io/instance":"taidon","app.kubernetes.io/component":"layer-archiver"}},
             "spec":{"restartPolicy":"Never","containers":[{"name":"archive","image":"postgres:15-bookworm"}]},"status":{"phase":"Succeeded"}}
            """)!.AsObject());

        var key = _engine.Root.Next("CREATE TABLE kept (id int)");
        var capture = await runtime.CaptureAsync(id, key, _engine.Root, Limits, CancellationToken.None);

        // The layer is the archive on the layers' claim, its bytes the archive's real size; its record says so.
        var archive = new FileInfo(Path.Combine(_cluster.LayersDirectory, InstanceNames.Layer(key) + ".tar"));
        Assert.True(archive.Exists);
        Assert.Equal(archive.Length, (await capture.Published).SizeBytes);
        Assert.Equal(archive.Length, Assert.Single(layers.List(), l => l.Key == key).SizeBytes);
        Assert.Equal(_engine.Root, layers.List().Single(l => l.Key == key).Parent);
        var record = _cluster.Api.Find(TestNamespace.ConfigMaps, InstanceNames.Layer(key))!;
        Assert.Equal(archive.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), record["metadata"]!["annotations"]![InstanceNames.BytesAnnotation]!.GetValue<string>());
        Assert.Equal("layer", record["metadata"]!["labels"]![InstanceNames.ComponentLabel]!.GetValue<string>());
        Assert.Equal(layers.List().Sum(l => l.SizeBytes), layers.TotalBytes());
        Assert.True(layers.Contains(_engine.Root));
        Assert.DoesNotContain(Directory.GetFiles(_cluster.LayersDirectory), f => f.EndsWith(".part", StringComparison.Ordinal));

        // The capture's pod is gone, and the one left over; the instance runs again on its volume.
        Assert.Single(_cluster.Api.List(TestNamespace.Pods));
        connection = await runtime.StartAsync(id, Limits, CancellationToken.None);
        await using (var session = await OpenAsync(connection))
        {
            await ScalarAsync(session, "INSERT INTO kept VALUES (2), (3); SELECT 'ok'");
        }

        // Another instance restored from the layer has the data, unpacked by its pod's init container.
        var other = Guid.NewGuid();
        await runtime.CreateAsync(other, Limits, CancellationToken.None);
        await runtime.RestoreAsync(other, key, Limits, CancellationToken.None);
        var otherConnection = await runtime.StartAsync(other, Limits, CancellationToken.None);
        await using (var session = await OpenAsync(otherConnection))
        {
            Assert.Equal("1", await ScalarAsync(session, "SELECT count(*)::text FROM kept"));
        }

        var pod = _cluster.Api.Find(TestNamespace.Pods, InstanceNames.Pod(other))!;
        Assert.Equal("unpack", pod["spec"]!["initContainers"]![0]!["name"]!.GetValue<string>());
        Assert.Null(Assert.Single(_cluster.Api.List(TestNamespace.Volumes), v => v["metadata"]!["name"]!.GetValue<string>().StartsWith(InstanceNames.Pod(other), StringComparison.Ordinal))["spec"]!["dataSource"]);

        // Removed: the layer stops counting, its archive is gone; the instance unpacked from it starts without it (its volume says it was unpacked).
        Assert.True(await layers.RemoveAsync(key, CancellationToken.None));
        Assert.False(layers.Contains(key));
        Assert.DoesNotContain(layers.List(), l => l.Key == key);
        Assert.Null(_cluster.Api.Find(TestNamespace.ConfigMaps, InstanceNames.Layer(key)));
        Assert.False(File.Exists(archive.FullName));
        Assert.True(File.Exists(Path.Combine(_cluster.LayersDirectory, InstanceNames.Layer(_engine.Root) + ".tar")));
        Assert.False(await layers.RemoveAsync(key, CancellationToken.None));

        await runtime.StopAsync(other, CancellationToken.None);
        otherConnection = await runtime.StartAsync(other, Limits, CancellationToken.None);
        await using (var session = await OpenAsync(otherConnection))
        {
            Assert.Equal("1", await ScalarAsync(session, "SELECT count(*)::text FROM kept"));
        }

        // Only the instances' pods are left, and the snapshot API was never asked.
        Assert.Equal(2, _cluster.Api.List(TestNamespace.Pods).Count);
        Assert.DoesNotContain(_cluster.Api.Requests, r => r.Path.Contains("snapshot.storage.k8s.io", StringComparison.Ordinal));
        await runtime.DeleteAsync(id, CancellationToken.None);
        await runtime.DeleteAsync(other, CancellationToken.None);
    }

    [Fact]
    public async Task ACaptureWhosePodFailsSaysWhatFailedAndWhereToLookAndRecordsNoLayer()
    {
        var (layers, runtime) = NewRuntime();
        var id = Guid.NewGuid();
        await runtime.CreateAsync(id, Limits, CancellationToken.None);

        // The layers' volume is not writable any more (full, or mounted read-only).
        File.SetUnixFileMode(_cluster.LayersDirectory, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var key = _engine.Root.Next("CREATE TABLE t (id int)");
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => runtime.CaptureAsync(id, key, _engine.Root, Limits, CancellationToken.None));

        Assert.Contains("failed to archive the volume", failed.Message, StringComparison.Ordinal);
        Assert.Contains("exit code 2", failed.Message, StringComparison.Ordinal);
        Assert.Contains("Permission denied", failed.Message, StringComparison.Ordinal);
        Assert.Contains("Taidon:Kubernetes:LayersClaim", failed.Message, StringComparison.Ordinal);
        Assert.False(layers.Contains(key));
        Assert.Null(_cluster.Api.Find(TestNamespace.ConfigMaps, InstanceNames.Layer(key)));

        // The instance runs again, and no pod of the capture is left.
        Assert.True(await runtime.IsRunningAsync(id, CancellationToken.None));
        Assert.Single(_cluster.Api.List(TestNamespace.Pods));
        await runtime.DeleteAsync(id, CancellationToken.None);
    }

    [Fact]
    public async Task ARestoreWhoseArchiveIsGoneDiscardsTheLayerSoTheRunPlansAgain()
    {
        var (layers, runtime) = NewRuntime();
        var id = Guid.NewGuid();
        await runtime.CreateAsync(id, Limits, CancellationToken.None);
        var key = _engine.Root.Next("CREATE TABLE t (id int)");
        await runtime.CaptureAsync(id, key, _engine.Root, Limits, CancellationToken.None);

        // The layers' volume lost the archive (wiped, or restored from an old backup): its record is all that is left.
        File.Delete(Path.Combine(_cluster.LayersDirectory, InstanceNames.Layer(key) + ".tar"));
        var damaged = await Assert.ThrowsAsync<Taidon.Core.Snapshots.SnapshotDamagedException>(() => runtime.RestoreAsync(id, key, Limits, CancellationToken.None));

        Assert.Contains("Init:Error: the init container unpack exited with 1", damaged.Message, StringComparison.Ordinal);
        Assert.Contains("is not on the layers' volume", damaged.Message, StringComparison.Ordinal);
        Assert.False(layers.Contains(key));
        Assert.Null(_cluster.Api.Find(TestNamespace.ConfigMaps, InstanceNames.Layer(key)));

        // What the run does next: restore another layer (here the base state) into a new volume, which starts.
        await runtime.RestoreAsync(id, _engine.Root, Limits, CancellationToken.None);
        Assert.True(await runtime.IsRunningAsync(id, CancellationToken.None));
        await runtime.DeleteAsync(id, CancellationToken.None);
    }

    [Fact]
    public async Task TwoRuntimesBuildingTheBaseStateAtOnceEndWithOneLayer()
    {
        var runtimes = new[] { NewRuntime().Runtime, NewRuntime().Runtime };

        var ids = new[] { Guid.NewGuid(), Guid.NewGuid() };
        await Task.WhenAll(runtimes.Select((r, i) => r.CreateAsync(ids[i], Limits, CancellationToken.None)));

        Assert.Equal(InstanceNames.Layer(_engine.Root), Assert.Single(_cluster.Api.List(TestNamespace.ConfigMaps))["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal([InstanceNames.Layer(_engine.Root) + ".tar"], Directory.GetFiles(_cluster.LayersDirectory).Select(Path.GetFileName));
        await Task.WhenAll(runtimes.Select((r, i) => r.DeleteAsync(ids[i], CancellationToken.None)));
    }

    [Fact]
    public async Task WithTheK3sValuesSettingsAStudentsScriptRunsThroughTheAppAndAnEditedRerunRestoresAnArchiveLayer()
    {
        await using var app = await TaidonAppFactory.CreateWithInstancesAsync("k8s-archives", await K3sSettingsAsync());
        using var student = await app.GuestApiClientAsync();

        var first = await RunAsync(student, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (2);\nSELECT count(*) AS n FROM t;");
        var second = await RunAsync(student, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (2), (3);\nSELECT count(*) AS n FROM t;");

        Assert.Equal("2", first.GetProperty("statements")[2].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());
        Assert.Equal("3", second.GetProperty("statements")[2].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());

        // The rerun restored a layer: a new volume for the student's instance, which its pod's init container unpacked a recorded archive into.
        // (A layer the run found costly to replay may still be archiving: only the instance's pod is looked at.)
        var pod = Assert.Single(_cluster.Api.List(TestNamespace.Pods), p => p["metadata"]!["labels"]![InstanceNames.ComponentLabel]!.GetValue<string>() == InstanceNames.InstanceComponent);
        var name = pod["metadata"]!["name"]!.GetValue<string>();
        var volumes = _cluster.Api.Requests.Count(r => r.Method == "POST" && r.Path.StartsWith(TestNamespace.Volumes, StringComparison.Ordinal)
            && r.Body!["metadata"]!["name"]!.GetValue<string>().StartsWith(name, StringComparison.Ordinal));
        Assert.InRange(volumes, 2, 3);
        var unpacked = pod["spec"]!["initContainers"]![0]!["args"]![2]!.GetValue<string>();
        Assert.NotNull(_cluster.Api.Find(TestNamespace.ConfigMaps, unpacked));
        Assert.True(File.Exists(Path.Combine(_cluster.LayersDirectory, unpacked + ".tar")));
        Assert.DoesNotContain(_cluster.Api.Requests, r => r.Path.Contains("snapshot.storage.k8s.io", StringComparison.Ordinal));
    }

    [Fact]
    public void AnArchivingPodRunsOnceAsAnInstanceWouldReadingTheVolumeOnlyAndAnInstanceUnpacksFromTheClaimReadOnly()
    {
        var manifests = new InstanceManifests(_options);
        var key = _engine.Root.Next("CREATE TABLE t (id int)");
        var instance = manifests.Pod(Guid.NewGuid(), "instance-volume", Limits, key, unpack: key);

        var archiving = manifests.ArchivePod("archive-pod", "instance-volume", key);

        Assert.Equal("Never", archiving.Spec.RestartPolicy);
        var container = Assert.Single(archiving.Spec.Containers);
        Assert.Null(container.ReadinessProbe);
        Assert.Equal("/dev/termination-log", container.TerminationMessagePath);
        Assert.Equal("FallbackToLogsOnError", container.TerminationMessagePolicy);
        Assert.Equal(instance.Spec.Containers[0].Image, container.Image);
        Assert.Equal(KubernetesJson.Serialize(instance.Spec.SecurityContext), KubernetesJson.Serialize(archiving.Spec.SecurityContext));
        Assert.Equal(KubernetesJson.Serialize(instance.Spec.Containers[0].SecurityContext), KubernetesJson.Serialize(container.SecurityContext));
        Assert.False(archiving.Spec.AutomountServiceAccountToken);
        Assert.True(Assert.Single(archiving.Spec.Volumes, v => v.Name == "data").PersistentVolumeClaim.ReadOnlyProperty);
        Assert.True(Assert.Single(container.VolumeMounts, m => m.Name == "data").ReadOnlyProperty);
        Assert.Equal(ProcessCluster.LayersClaim, Assert.Single(archiving.Spec.Volumes, v => v.Name == "layers").PersistentVolumeClaim.ClaimName);
        Assert.Equal(InstanceNames.ArchiverComponent, archiving.Metadata.Labels[InstanceNames.ComponentLabel]);
        Assert.Equal("taidon", archiving.Metadata.Labels[InstanceNames.ReleaseLabel]);

        // The instance's pod: its init container unpacks that layer, the claim read-only; the volume has no data source.
        var unpack = Assert.Single(instance.Spec.InitContainers);
        Assert.Equal(InstanceNames.Layer(key), unpack.Args[2]);
        Assert.True(Assert.Single(unpack.VolumeMounts, m => m.Name == "layers").ReadOnlyProperty);
        Assert.True(Assert.Single(instance.Spec.Volumes, v => v.Name == "layers").PersistentVolumeClaim.ReadOnlyProperty);
        Assert.DoesNotContain(instance.Spec.Containers[0].VolumeMounts, m => m.Name == "layers");
        Assert.Null(manifests.Volume(Guid.NewGuid(), "v", Limits, key, 1024).Spec.DataSource);
        Assert.Null(manifests.Pod(Guid.NewGuid(), "v", Limits, key).Spec.InitContainers);
    }

    [Fact]
    public void TheLayersAreSnapshotsWithASnapshotClassArchivesWithAClaimAndNeitherIsRefusedNamingBoth()
    {
        Assert.Equal(LayerKind.Snapshots, new KubernetesOptions { VolumeSnapshotClassName = "csi", LayersClaim = "layers" }.LayerMode);
        Assert.Equal(LayerKind.Archives, new KubernetesOptions { LayersClaim = "layers" }.LayerMode);
        Assert.Equal(LayerKind.Archives, new KubernetesOptions { VolumeSnapshotClassName = "csi", LayersClaim = "layers", Layers = LayerKind.Archives }.LayerMode);

        var neither = Problems(new KubernetesOptions { Namespace = "instances" });
        var problem = Assert.Single(neither);
        Assert.Contains("Taidon:Kubernetes:VolumeSnapshotClassName", problem, StringComparison.Ordinal);
        Assert.Contains("Taidon:Kubernetes:LayersClaim", problem, StringComparison.Ordinal);
        Assert.Contains("needs a CSI driver that takes snapshots", problem, StringComparison.Ordinal);

        Assert.Contains("Taidon:Kubernetes:LayersClaim '' must name a PersistentVolumeClaim", Assert.Single(Problems(new KubernetesOptions { Namespace = "instances", Layers = LayerKind.Archives })), StringComparison.Ordinal);
        Assert.Contains("set Layers to Archives and LayersClaim", Assert.Single(Problems(new KubernetesOptions { Namespace = "instances", Layers = LayerKind.Snapshots, LayersClaim = "layers" })), StringComparison.Ordinal);
        Assert.Empty(Problems(new KubernetesOptions { Namespace = "instances", LayersClaim = "layers" }));

        static List<string> Problems(KubernetesOptions options) =>
            [.. options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(p => p.ErrorMessage!)];
    }

    [Fact]
    public async Task WithTheK3sValuesSettingsAClassRunsOneCourseAndEditsItAndEachLayerIsArchivedOnce()
    {
        await using var app = await TaidonAppFactory.CreateWithInstancesAsync("k8s-class", await K3sSettingsAsync());
        const string Init = "CREATE TABLE pupils (id int PRIMARY KEY, name text);\nINSERT INTO pupils SELECT g, 'pupil ' || g FROM generate_series(1, 20000) g;\nCREATE INDEX ON pupils (name);\n";
        const int Students = 6;

        // A class arriving together: each student runs the course's exercise, then edits it and runs again.
        var answers = await Task.WhenAll(Enumerable.Range(1, Students).Select(async n =>
        {
            using var student = await app.GuestApiClientAsync();
            var first = await RunAsync(student, Init + "SELECT count(*) FROM pupils;");
            var edited = await RunAsync(student, Init + $"SELECT count(*) FROM pupils WHERE id <= {n * 100};");
            return (First: Value(first), Edited: Value(edited));
        }));

        Assert.All(answers, a => Assert.Equal("20000", a.First));
        Assert.Equal(Enumerable.Range(1, Students).Select(n => (n * 100).ToString(System.Globalization.CultureInfo.InvariantCulture)), answers.Select(a => a.Edited));
        Assert.Equal(Students, _cluster.Api.List(TestNamespace.Pods).Count(p => p["metadata"]!["labels"]![InstanceNames.ComponentLabel]!.GetValue<string>() == InstanceNames.InstanceComponent));
        // Each layer (the base state at least, which six students starting at once all need) is archived once, whoever needed it first.
        var recorded = _cluster.Api.List(TestNamespace.ConfigMaps).Count;
        var archivingPods = _cluster.Api.Requests.Count(r => r.Method == "POST" && r.Path.StartsWith(TestNamespace.Pods, StringComparison.Ordinal)
            && r.Body!["metadata"]!["name"]!.GetValue<string>().StartsWith("archive-", StringComparison.Ordinal));
        Assert.InRange(recorded, 1, 2 * Students);
        Assert.Equal(recorded, archivingPods);
        Assert.DoesNotContain(_cluster.Api.Requests, r => r.Path.Contains("snapshot.storage.k8s.io", StringComparison.Ordinal));

        static string? Value(System.Text.Json.JsonElement run) =>
            run.GetProperty("statements")[3].GetProperty("results")[0].GetProperty("rows")[0][0].GetString();
    }

    /// <summary>The app's settings as the chart renders them from the k3s values (a cluster without snapshots), pointed at the fake cluster.</summary>
    private async Task<Dictionary<string, string?>> K3sSettingsAsync()
    {
        var rendered = await Charts.HelmChartTests.RenderAsync(Path.Combine(Charts.HelmChartTests.Chart, "ci", "k3s-values.yaml"));
        var settings = Assert.Single(rendered.OfType<k8s.Models.V1Deployment>()).Spec.Template.Spec.Containers.Single().Env
            .Where(e => e.Value is not null && (e.Name.StartsWith("Taidon__Kubernetes__", StringComparison.Ordinal) || e.Name.StartsWith("Taidon__Runtime__", StringComparison.Ordinal)))
            .ToDictionary(e => e.Name.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value);
        Assert.Equal(TestNamespace.Name, settings["Taidon:Kubernetes:Namespace"]);
        Assert.Equal(ProcessCluster.LayersClaim, settings["Taidon:Kubernetes:LayersClaim"]);
        foreach (var (key, value) in _cluster.AppSettings().Where(s => s.Key is "Taidon:Kubernetes:Kubeconfig" or "Taidon:Kubernetes:StartTimeoutSeconds" or "Taidon:Instances:WarmPoolSize"))
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>A runtime with archive layers on the fake cluster, as one replica of the app has it (its own watches).</summary>
    private (ArchiveLayers Layers, KubernetesInstanceRuntime Runtime) NewRuntime()
    {
        var cluster = new InstanceCluster(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _cluster.Api.Url.ToString() }), _options, NullLogger<InstanceCluster>.Instance);
        _watches.Add(cluster);
        var layers = new ArchiveLayers(cluster);
        return (layers, new KubernetesInstanceRuntime(cluster, layers, _engine, NullLogger<KubernetesInstanceRuntime>.Instance));
    }
}
