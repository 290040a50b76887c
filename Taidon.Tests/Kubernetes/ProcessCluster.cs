using Npgsql;
using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Tests.Kubernetes;

/// <summary>
/// The fake API server with a node that runs its pods for real (<see cref="ProcessKubelet"/>), a folder for
/// the kubeconfig, and the settings that point the app's Kubernetes runtime at them.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    private ProcessCluster(FakeKubernetesApi api, ProcessKubelet node)
    {
        Api = api;
        Node = node;
        api.Node = node;
    }

    public FakeKubernetesApi Api { get; }

    public ProcessKubelet Node { get; }

    /// <summary>A folder of the test's own (the kubeconfig is written there).</summary>
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("taidon-k8s-").FullName;

    public static async Task<ProcessCluster> StartAsync() => new(await FakeKubernetesApi.StartAsync(), new ProcessKubelet());

    /// <summary>The app's settings for the Kubernetes runtime on this cluster (no warm pool: the tests count pods).</summary>
    public Dictionary<string, string?> AppSettings() => new()
    {
        ["Taidon:Runtime:Kind"] = "Kubernetes",
        ["Taidon:Kubernetes:Namespace"] = TestNamespace.Name,
        ["Taidon:Kubernetes:VolumeSnapshotClassName"] = "csi-hostpath-snapclass",
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
