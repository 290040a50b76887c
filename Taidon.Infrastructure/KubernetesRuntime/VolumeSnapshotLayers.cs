using System.Collections.Concurrent;
using k8s;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>
/// The snapshot layers of the Kubernetes runtime: VolumeSnapshots named by their chain key, read from
/// the watched index. A layer counts once its snapshot is ready to use; one with an error is not a layer.
/// </summary>
public sealed class VolumeSnapshotLayers(InstanceCluster cluster) : ISnapshotLayers
{
    private readonly ConcurrentDictionary<ChainKey, int> _inUse = new();

    public bool Contains(ChainKey key) => IsReady(cluster.Snapshots.Find(InstanceNames.Layer(key)));

    public IReadOnlyList<SnapshotLayer> List() =>
        [.. cluster.Snapshots.Objects
            .Where(IsReady)
            .Select(ToLayer)
            .OfType<SnapshotLayer>()
            .OrderBy(l => l.CreatedAt)];

    public long TotalBytes() => List().Sum(l => l.SizeBytes);

    public bool IsInUse(ChainKey key) => _inUse.TryGetValue(key, out var count) && count > 0;

    public async Task<bool> RemoveAsync(ChainKey key, CancellationToken cancellationToken)
    {
        if (cluster.Snapshots.Find(InstanceNames.Layer(key)) is null)
        {
            return false;
        }

        await KubernetesCalls.DeleteAsync(
            c => cluster.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(VolumeSnapshot.Group, VolumeSnapshot.Version, cluster.Namespace, VolumeSnapshot.Plural, InstanceNames.Layer(key), cancellationToken: c),
            cluster.Logger, "delete a volume snapshot", cancellationToken);
        await cluster.Snapshots.WaitAsync(InstanceNames.Layer(key), s => s is null || s.Metadata.DeletionTimestamp is not null, cluster.Options.StartTimeout, cancellationToken);
        return true;
    }

    /// <summary>Marks the layer as read by a restore until the result is disposed (the garbage collector skips it meanwhile).</summary>
    public IDisposable Use(ChainKey key)
    {
        _inUse.AddOrUpdate(key, 1, (_, count) => count + 1);
        return new Release(() => _inUse.AddOrUpdate(key, 0, (_, count) => count - 1));
    }

    /// <summary>Null when there is no snapshot; false when it failed or is being deleted (it must be removed before the key is taken again).</summary>
    public static bool? IsUsable(VolumeSnapshot? snapshot) =>
        snapshot is null ? null : snapshot.Metadata.DeletionTimestamp is null && snapshot.Status?.Error?.Message is null;

    public static bool IsReady(VolumeSnapshot? snapshot) =>
        snapshot is { Status.ReadyToUse: true, Metadata.DeletionTimestamp: null } && snapshot.Status.Error?.Message is null;

    public static SnapshotLayer? ToLayer(VolumeSnapshot snapshot)
    {
        if (!InstanceNames.TryParseLayer(snapshot.Metadata.Name, out var key))
        {
            return null;
        }

        ChainKey? parent = snapshot.Metadata.Annotations?.TryGetValue(InstanceNames.ParentKeyAnnotation, out var raw) == true && ChainKey.TryParse(raw, out var parsed)
            ? parsed
            : null;
        var created = snapshot.Status?.CreationTime ?? snapshot.Metadata.CreationTimestamp ?? DateTime.UnixEpoch;
        var size = snapshot.Status?.RestoreSize is { } quantity ? (long)quantity.ToDecimal() : 0;
        return new SnapshotLayer(key, parent, size, 0, new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)), "csi:" + snapshot.Spec.VolumeSnapshotClassName);
    }

    private sealed class Release(Action release) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                release();
            }
        }
    }
}
