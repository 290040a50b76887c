using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>
/// The snapshot layers of the Kubernetes runtime as CSI VolumeSnapshots named by their chain key, read from
/// the watched index. A layer counts once its snapshot is ready to use; one with an error is not a layer.
/// </summary>
public sealed class VolumeSnapshotLayers(InstanceCluster cluster) : VolumeLayers
{
    public override bool Contains(ChainKey key) => IsReady(cluster.Snapshots.Find(InstanceNames.Layer(key)));

    protected override IEnumerable<SnapshotLayer> Ready() => cluster.Snapshots.Objects.Where(IsReady).Select(ToLayer).OfType<SnapshotLayer>();

    public override SnapshotLayer? Find(ChainKey key) => cluster.Snapshots.Find(InstanceNames.Layer(key)) is { } snapshot ? ToLayer(snapshot) : null;

    public override bool? IsUsable(ChainKey key) => IsUsable(cluster.Snapshots.Find(InstanceNames.Layer(key)));

    public override string? Failure(ChainKey key) => cluster.Snapshots.Find(InstanceNames.Layer(key))?.Status?.Error?.Message;

    public override async Task<bool> RemoveAsync(ChainKey key, CancellationToken cancellationToken)
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

    /// <summary>
    /// Snapshots a stopped instance's volume and waits until the snapshot is cut (the volume may then be used
    /// again). The measured <paramref name="bytes"/> go on the snapshot: its restoreSize is the volume's size.
    /// </summary>
    public override async Task TakeAsync(string volume, ChainKey key, ChainKey? parent, long? bytes, CancellationToken cancellationToken)
    {
        // A snapshot of this key that failed (or is going) would stand in the way for good: it is removed first.
        if (IsUsable(key) is false)
        {
            await RemoveAsync(key, cancellationToken);
            await cluster.Snapshots.WaitAsync(InstanceNames.Layer(key), s => s is null, cluster.Options.StartTimeout, cancellationToken);
        }

        var (labels, annotations) = Metadata(cluster.Options.Release, key, parent);
        if (bytes is { } measured)
        {
            annotations[InstanceNames.BytesAnnotation] = measured.ToString(CultureInfo.InvariantCulture);
        }

        var snapshot = new VolumeSnapshot
        {
            Metadata = new V1ObjectMeta { Name = InstanceNames.Layer(key), Labels = labels, Annotations = annotations },
            Spec = new VolumeSnapshotSpec
            {
                VolumeSnapshotClassName = cluster.Options.VolumeSnapshotClassName,
                Source = new VolumeSnapshotSource { PersistentVolumeClaimName = volume },
            },
        };
        try
        {
            await KubernetesCalls.RetryAsync(
                c => cluster.Client.CustomObjects.CreateNamespacedCustomObjectAsync(snapshot, VolumeSnapshot.Group, VolumeSnapshot.Version, cluster.Namespace, VolumeSnapshot.Plural, cancellationToken: c),
                cluster.Logger, "create a volume snapshot", cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // The same state was snapshotted already (by another instance or replica): one layer per key.
        }

        await cluster.Snapshots.WaitAsync(InstanceNames.Layer(key),
            s => SnapshotFailure(s) is { } failure ? throw failure : s?.Status?.CreationTime is not null || s?.Status?.ReadyToUse == true,
            cluster.Options.StartTimeout, cancellationToken);
    }

    public override Task WaitReadyAsync(ChainKey key, CancellationToken cancellationToken) =>
        cluster.Snapshots.WaitAsync(InstanceNames.Layer(key), s => SnapshotFailure(s) is { } failure ? throw failure : IsReady(s), cluster.Options.StartTimeout, cancellationToken);

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

        var created = snapshot.Status?.CreationTime ?? snapshot.Metadata.CreationTimestamp ?? DateTime.UnixEpoch;
        // What PostgreSQL measured when it was taken, else what the driver says a restore needs (the volume's size).
        var size = long.TryParse(InstanceNames.ValueOf(snapshot.Metadata.Annotations, InstanceNames.BytesAnnotation), NumberStyles.None, CultureInfo.InvariantCulture, out var measured)
            ? measured
            : snapshot.Status?.RestoreSize is { } quantity ? (long)quantity.ToDecimal() : 0;
        return new SnapshotLayer(key, ParentOf(snapshot.Metadata.Annotations), size, 0, new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)), "csi:" + snapshot.Spec.VolumeSnapshotClassName);
    }

    private static InvalidOperationException? SnapshotFailure(VolumeSnapshot? snapshot) => snapshot?.Status?.Error?.Message is { } message
        ? new InvalidOperationException($"The volume snapshot {snapshot.Metadata.Name} failed: {message}. Check the VolumeSnapshotClass '{snapshot.Spec.VolumeSnapshotClassName}' and its CSI driver.")
        : null;
}
