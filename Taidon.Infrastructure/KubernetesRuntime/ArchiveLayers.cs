using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>
/// Snapshot layers for clusters without CSI snapshots: a layer is an archive <c>layer-&lt;key&gt;.tar</c> of a stopped
/// instance's volume on the layers' volume (<see cref="KubernetesOptions.LayersClaim"/>), made by a one-shot pod,
/// and recorded by a ConfigMap of the same name once the archive is whole (its size in real bytes, so the
/// cache's budget counts what the archives take). A volume from a layer is an empty one that the instance
/// pod's init container unpacks the archive into (<see cref="InstanceManifests.Pod"/>).
/// </summary>
public sealed class ArchiveLayers(InstanceCluster cluster) : VolumeLayers
{
    private readonly InstanceManifests _manifests = new(cluster.Options);

    public override bool Contains(ChainKey key) => IsRecorded(cluster.Archives.Find(InstanceNames.Layer(key)));

    protected override IEnumerable<SnapshotLayer> Ready() => cluster.Archives.Objects.Where(IsRecorded).Select(ToLayer).OfType<SnapshotLayer>();

    public override SnapshotLayer? Find(ChainKey key) => cluster.Archives.Find(InstanceNames.Layer(key)) is { } record && IsRecorded(record) ? ToLayer(record) : null;

    /// <summary>A record is made only once its archive is whole: there is no failed archive layer, only none.</summary>
    public override bool? IsUsable(ChainKey key) => cluster.Archives.Find(InstanceNames.Layer(key)) is { } record ? IsRecorded(record) : null;

    public override string? Failure(ChainKey key) => null;

    /// <summary>Archives the volume; the layer's bytes are the archive's, whatever <paramref name="bytes"/> PostgreSQL measured.</summary>
    public override async Task TakeAsync(string volume, ChainKey key, ChainKey? parent, long? bytes, CancellationToken cancellationToken)
    {
        if (Contains(key))
        {
            return; // archived already, from another instance with the same state
        }

        var name = InstanceNames.ArchiverPod("archive", key);
        var message = await RunAsync(_manifests.ArchivePod(name, volume, key), "archive the volume " + volume, cancellationToken);
        if (!long.TryParse(message, NumberStyles.None, CultureInfo.InvariantCulture, out var archived))
        {
            throw new InvalidOperationException($"The archive pod {name} ended without the archive's size (it said '{message}'). Check that the image {cluster.Options.InstanceImage} has tar, wc and tr.");
        }

        var (labels, annotations) = Metadata(cluster.Options.Release, key, parent);
        annotations[InstanceNames.BytesAnnotation] = archived.ToString(CultureInfo.InvariantCulture);
        annotations[InstanceNames.CreatedAnnotation] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        var record = new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = new V1ObjectMeta { Name = InstanceNames.Layer(key), Labels = labels, Annotations = annotations },
            Data = new Dictionary<string, string> { ["archive"] = InstanceNames.Layer(key) + ".tar", ["claim"] = cluster.Options.LayersClaim! },
        };
        try
        {
            await KubernetesCalls.RetryAsync(c => cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(record, cluster.Namespace, cancellationToken: c), cluster.Logger, "record a layer", cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Archived at the same moment by another instance or replica: one layer per key, and either archive is it.
        }

        await cluster.Archives.WaitAsync(InstanceNames.Layer(key), IsRecorded, cluster.Options.StartTimeout, cancellationToken);
        cluster.Logger.LogInformation("Archived the volume {Volume} as the layer {Key} ({Bytes} bytes)", volume, key.Short, archived);
    }

    public override Task WaitReadyAsync(ChainKey key, CancellationToken cancellationToken) =>
        cluster.Archives.WaitAsync(InstanceNames.Layer(key), IsRecorded, cluster.Options.StartTimeout, cancellationToken);

    /// <summary>
    /// The record goes first (the layer stops counting and no restore starts from it), then a one-shot pod
    /// removes the archive. When that pod fails the archive is left: harmless, as nothing reads an archive
    /// without its record, and the next removal's pod sweeps it (<see cref="InstanceManifests.RemoveScript"/>).
    /// </summary>
    public override async Task<bool> RemoveAsync(ChainKey key, CancellationToken cancellationToken)
    {
        if (cluster.Archives.Find(InstanceNames.Layer(key)) is null)
        {
            return false;
        }

        await KubernetesCalls.DeleteAsync(c => cluster.Client.CoreV1.DeleteNamespacedConfigMapAsync(InstanceNames.Layer(key), cluster.Namespace, cancellationToken: c),
            cluster.Logger, "delete a layer's record", cancellationToken);
        await cluster.Archives.WaitAsync(InstanceNames.Layer(key), r => r is null, cluster.Options.StartTimeout, cancellationToken);
        var kept = cluster.Archives.Objects.Select(r => InstanceNames.TryParseLayer(r.Metadata.Name, out var k) ? k : (ChainKey?)null).OfType<ChainKey>().Where(k => k != key);
        try
        {
            await RunAsync(_manifests.RemoveArchivePod(InstanceNames.ArchiverPod("remove", key), key, kept), "remove the archive of the layer " + key.Short, cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpOperationException)
        {
            cluster.Logger.LogWarning("The layer {Key} is removed, its archive not yet (the next removal sweeps it): {Problem}", key.Short, KubernetesCalls.Describe(e));
        }

        return true;
    }

    /// <summary>
    /// Runs a one-shot pod to its end and removes it; returns its termination message, or says why it failed
    /// (its message, or the tail of its log) and where to look.
    /// </summary>
    private async Task<string> RunAsync(V1Pod pod, string what, CancellationToken cancellationToken)
    {
        await SweepEndedPodsAsync(cancellationToken);
        var name = pod.Metadata.Name;
        try
        {
            await KubernetesCalls.RetryAsync(c => cluster.Client.CoreV1.CreateNamespacedPodAsync(pod, cluster.Namespace, cancellationToken: c), cluster.Logger, "create a layer pod", cancellationToken);
            V1Pod? last = null;
            try
            {
                last = await cluster.Pods.WaitAsync(name, p =>
                {
                    last = p ?? last;
                    return p?.Status?.Phase is "Succeeded" or "Failed" || (p is not null && KubernetesInstanceRuntime.Failure(p) is not null);
                }, cluster.Options.StartTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new InvalidOperationException(
                    $"The pod {name} that was to {what} did not end within {cluster.Options.StartTimeoutSeconds} s (phase {last?.Status?.Phase ?? "unknown"}); Taidon:Kubernetes:StartTimeoutSeconds sets the wait. "
                    + $"See `kubectl -n {cluster.Namespace} describe pod {name}`.");
            }

            var terminated = last?.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Terminated;
            if (last?.Status?.Phase != "Succeeded")
            {
                var why = terminated is not null ? $"exit code {terminated.ExitCode}: {terminated.Message?.Trim()}" : KubernetesInstanceRuntime.Failure(last!) ?? last?.Status?.Phase;
                throw new InvalidOperationException(
                    $"The pod {name} failed to {what} ({why}). Check the layers' volume {cluster.Options.LayersClaim} (Taidon:Kubernetes:LayersClaim): bound, writable by user {InstanceManifests.PostgresUser}, with room.");
            }

            return terminated?.Message?.Trim() ?? "";
        }
        finally
        {
            await KubernetesCalls.DeleteAsync(c => cluster.Client.CoreV1.DeleteNamespacedPodAsync(name, cluster.Namespace, gracePeriodSeconds: 0, cancellationToken: c),
                cluster.Logger, "delete a layer pod", CancellationToken.None);
        }
    }

    /// <summary>
    /// Deletes archiving pods that ended over an hour ago: left by a replica that stopped before it removed its
    /// own (reconciliation looks at instances only). A pod still running, or just ended, may be another replica's.
    /// </summary>
    private async Task SweepEndedPodsAsync(CancellationToken cancellationToken)
    {
        var ended = cluster.Pods.Objects.Where(p => InstanceNames.ValueOf(p.Metadata.Labels, InstanceNames.ComponentLabel) == InstanceNames.ArchiverComponent
            && p.Status?.Phase is "Succeeded" or "Failed"
            && p.Metadata.CreationTimestamp < DateTime.UtcNow.AddHours(-1));
        foreach (var pod in ended)
        {
            await KubernetesCalls.DeleteAsync(c => cluster.Client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, cluster.Namespace, gracePeriodSeconds: 0, cancellationToken: c),
                cluster.Logger, "delete a layer pod left over", cancellationToken);
        }
    }

    private static bool IsRecorded(V1ConfigMap? record) => record is { Metadata.DeletionTimestamp: null };

    public static SnapshotLayer? ToLayer(V1ConfigMap record)
    {
        if (!InstanceNames.TryParseLayer(record.Metadata.Name, out var key))
        {
            return null;
        }

        var annotations = record.Metadata.Annotations;
        var bytes = long.TryParse(InstanceNames.ValueOf(annotations, InstanceNames.BytesAnnotation), NumberStyles.None, CultureInfo.InvariantCulture, out var b) ? b : 0;
        var created = DateTimeOffset.TryParse(InstanceNames.ValueOf(annotations, InstanceNames.CreatedAnnotation), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : new DateTimeOffset(DateTime.SpecifyKind(record.Metadata.CreationTimestamp ?? DateTime.UnixEpoch, DateTimeKind.Utc));
        return new SnapshotLayer(key, ParentOf(annotations), bytes, 1, created, "archive:" + InstanceNames.ValueOf(record.Data, "claim"));
    }
}
