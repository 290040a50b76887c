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
/// The Kubernetes runtime with its pods run for real (<see cref="ProcessKubelet"/>): the instance image's
/// start script makes the cluster, sets the student's password and starts PostgreSQL; layers and restores
/// carry real data; a student's script runs end to end through the app.
/// </summary>
public sealed class KubernetesRunTests : IAsyncLifetime
{
    private const string Namespace = TestNamespace.Name;

    private static readonly InstanceLimits Limits = new(MaxConnections: 4, StatementTimeout: TimeSpan.FromSeconds(30), Owner: "account-1");

    private readonly KubernetesOptions _options = new() { Namespace = Namespace, VolumeSnapshotClassName = "csi-hostpath-snapclass", StartTimeoutSeconds = 60 };
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task AnInstanceIsAPrivateUnprivilegedPostgreSqlAndALayerBringsItsDataBack()
    {
        var engine = EngineIdentity.PostgreSql(PostgresBinaries.Locate(null).MajorVersion);
        await using var cluster = new InstanceCluster(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _cluster.Api.Url.ToString() }), _options, NullLogger<InstanceCluster>.Instance);
        var runtime = new KubernetesInstanceRuntime(cluster, new VolumeSnapshotLayers(cluster), engine, NullLogger<KubernetesInstanceRuntime>.Instance);
        var id = Guid.NewGuid();

        var connection = await runtime.CreateAsync(id, Limits, CancellationToken.None);

        await using (var session = await OpenAsync(connection))
        {
            Assert.Equal("student|workspace|false", await ScalarAsync(session, "SELECT current_user || '|' || current_database() || '|' || (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)::text"));
            await ScalarAsync(session, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (1); SELECT 'ok'");
        }

        // The student reaches only the working database, only with the password from the Secret.
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => OpenAsync(connection with { Database = "postgres" }));
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => OpenAsync(connection with { Password = "wrong" }));

        var key = engine.Root.Next("CREATE TABLE kept (id int)");
        var capture = await runtime.CaptureAsync(id, key, engine.Root, Limits, CancellationToken.None);
        // The layer counts what PostgreSQL measured (the working database), not the snapshot's restoreSize (the whole volume).
        var snapshotBytes = long.Parse(_cluster.Api.Find(TestNamespace.Snapshots, InstanceNames.Layer(key))!["status"]!["restoreSize"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        var layer = await capture.Published;
        Assert.InRange(layer.SizeBytes, 1024 * 1024, snapshotBytes - 1);
        Assert.Equal(layer.SizeBytes, long.Parse(_cluster.Api.Find(TestNamespace.Snapshots, InstanceNames.Layer(key))!["metadata"]!["annotations"]![InstanceNames.BytesAnnotation]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        connection = await runtime.StartAsync(id, Limits, CancellationToken.None);
        await using (var session = await OpenAsync(connection))
        {
            await ScalarAsync(session, "INSERT INTO kept VALUES (2), (3); SELECT 'ok'");
        }

        await runtime.RestoreAsync(id, key, Limits, CancellationToken.None);

        connection = await runtime.StartAsync(id, Limits, CancellationToken.None);
        await using (var session = await OpenAsync(connection))
        {
            Assert.Equal("1", await ScalarAsync(session, "SELECT count(*)::text FROM kept"));
        }

        // Another instance restored from the layer has the data, and a password of its own.
        var other = Guid.NewGuid();
        await runtime.CreateAsync(other, Limits, CancellationToken.None);
        await runtime.RestoreAsync(other, key, Limits, CancellationToken.None);
        var otherConnection = await runtime.StartAsync(other, Limits, CancellationToken.None);
        Assert.NotEqual(connection.Password, otherConnection.Password);
        await using (var session = await OpenAsync(otherConnection))
        {
            Assert.Equal("1", await ScalarAsync(session, "SELECT count(*)::text FROM kept"));
        }

        // The admin page's size: PostgreSQL's measure of the working database while it runs, the last one once it stopped.
        var usage = await runtime.UsageAsync(id, CancellationToken.None);
        Assert.NotNull(usage);
        Assert.True(usage.Running);
        Assert.InRange(usage.DiskBytes, 1024 * 1024, 1024L * 1024 * 1024);
        await runtime.StopAsync(id, CancellationToken.None);
        Assert.Equal(usage with { Running = false }, await runtime.UsageAsync(id, CancellationToken.None));
        Assert.Null(await runtime.UsageAsync(Guid.NewGuid(), CancellationToken.None));

        await runtime.DeleteAsync(id, CancellationToken.None);
        await runtime.DeleteAsync(other, CancellationToken.None);
        Assert.Null(await runtime.UsageAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task AStudentsScriptRunsThroughTheAppInAPodAndAnEditedRerunRestoresALayer()
    {
        await using var app = await TaidonAppFactory.CreateWithInstancesAsync("k8s-runs", _cluster.AppSettings());
        using var student = await app.GuestApiClientAsync();

        var first = await RunAsync(student, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (2);\nSELECT count(*) AS n FROM t;");
        var second = await RunAsync(student, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (2), (3);\nSELECT count(*) AS n FROM t;");

        Assert.Equal("2", first.GetProperty("statements")[2].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());
        Assert.Equal("3", second.GetProperty("statements")[2].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());
        var pod = Assert.Single(_cluster.Api.List(TestNamespace.Pods));
        Assert.NotNull(pod["metadata"]!["labels"]!["taidon.io/account"]);
        Assert.NotEmpty(_cluster.Api.List(TestNamespace.Snapshots));
    }
}
