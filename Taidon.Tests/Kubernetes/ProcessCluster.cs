using Npgsql;
using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Tests.Kubernetes;

/// <summary>
/// The fake API server with a node that runs its pods for real (<see cref="ProcessKubelet"/>), a folder for
/// the kubeconfig, and the settings that point the app's Kubernetes runtime at them. A cluster with CSI
/// snapshots, or one without (as k3s with local-path) where layers are archives on <see cref="LayersClaim"/>.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    /// <summary>The claim of the archive layers on a cluster without snapshots.</summary>
    public const string LayersClaim = "taidon-layers";

    private ProcessCluster(FakeKubernetesApi api, ProcessKubelet node, bool snapshots)
    {
        Api = api;
        Node = node;
        Snapshots = snapshots;
        api.Node = node;
        api.SnapshotApi = snapshots;
        if (!snapshots)
        {
            api.Put(TestNamespace.Volumes, new System.Text.Json.Nodes.JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "PersistentVolumeClaim",
                ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = LayersClaim },
                ["spec"] = System.Text.Json.Nodes.JsonNode.Parse("""{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}"""),
            });
        }
    }

    /// <summary>Whether the cluster takes CSI snapshots (else layers are archives).</summary>
    public bool Snapshots { get; }

    public FakeKubernetesApi Api { get; }

    public ProcessKubelet Node { get; }

    /// <summary>A folder of the test's own (the kubeconfig is written there).</summary>
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("taidon-k8s-").FullName;

    /// <summary>A cluster with CSI snapshots, or (<paramref name="snapshots"/> false) one without them and with a claim for archive layers.</summary>
    public static async Task<ProcessCluster> StartAsync(bool snapshots = true) => new(await FakeKubernetesApi.StartAsync(), new ProcessKubelet(), snapshots);

    /// <summary>The directory that stands for the layers' claim on the node.</summary>
    public string LayersDirectory => Node.VolumePath(LayersClaim);

    /// <summary>The app's settings for the Kubernetes runtime on this cluster (no warm pool: the tests count pods).</summary>
    public Dictionary<string, string?> AppSettings() => new()
    {
        ["Taidon:Runtime:Kind"] = "Kubernetes",
        ["Taidon:Kubernetes:Namespace"] = TestNamespace.Name,
        [Snapshots ? "Taidon:Kubernetes:VolumeSnapshotClassName" : "Taidon:Kubernetes:LayersClaim"] = Snapshots ? "csi-hostpath-snapclass" : LayersClaim,
        ["Taidon:Kubernetes:Kubeconfig"] = Api.WriteKubeconfig(Directory),
        ["Taidon:Kubernetes:StartTimeoutSeconds"] = "60",
        ["Taidon:Engine:MajorVersion"] = PostgresBinaries.Locate(null).MajorVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Taidon:Instances:WarmPoolSize"] = "0",
    };

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await Api.DisposeAsync();
        await Node.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
