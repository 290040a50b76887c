using Microsoft.Extensions.Options;
using Taidon.Tests.Support;

namespace Taidon.Tests.Kubernetes;

/// <summary>The app refuses to start when the cluster lacks what its layers need, naming the settings that fix it.</summary>
[Collection(HostStartRefusals.Name)]
public sealed class KubernetesLayerSupportTests : IAsyncLifetime
{
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.StartAsync(snapshots: false);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task SnapshotLayersOnAClusterWithoutTheSnapshotApiStopTheStartSayingToUseArchives()
    {
        var refused = await RefusedAsync("Taidon:Kubernetes:Layers", "Snapshots", "Taidon:Kubernetes:VolumeSnapshotClassName", "csi-hostpath-snapclass");

        Assert.Contains("the cluster has no snapshot.storage.k8s.io/v1 API", refused, StringComparison.Ordinal);
        Assert.Contains("Set Taidon:Kubernetes:Layers=Archives and Taidon:Kubernetes:LayersClaim", refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ArchiveLayersWithoutTheirClaimStopTheStartNamingIt()
    {
        var refused = await RefusedAsync("Taidon:Kubernetes:LayersClaim", "no-such-claim");

        Assert.Contains("Taidon:Kubernetes:LayersClaim 'no-such-claim' is not a PersistentVolumeClaim in the instances' namespace", refused, StringComparison.Ordinal);
    }

    /// <summary>The message of the app's refused start with the cluster's settings changed by <paramref name="changes"/> (setting, value, ...).</summary>
    private async Task<string> RefusedAsync(params string[] changes)
    {
        var settings = _cluster.AppSettings();
        for (var i = 0; i < changes.Length; i += 2)
        {
            settings[changes[i]] = changes[i + 1];
        }

        await using var app = new TaidonAppFactory(await TestControlPlane.CreateDatabaseAsync("k8s-layers"), settings);
        return Assert.Throws<OptionsValidationException>(() => app.CreateClient()).Message;
    }
}
