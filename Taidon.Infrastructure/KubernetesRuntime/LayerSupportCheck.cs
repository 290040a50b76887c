using System.Net;
using k8s;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>
/// At start, whether the cluster offers what <see cref="KubernetesOptions.LayerMode"/> needs: the snapshot API
/// (<c>snapshot.storage.k8s.io/v1</c>) for snapshot layers, the layers' claim for archive layers. A cluster that
/// lacks it stops the start with a message naming the settings to change; one that cannot be asked now (not
/// reachable yet) is left to the watches, which say so on first use.
/// </summary>
public sealed class LayerSupportCheck(IKubernetes client, KubernetesOptions options, ILogger<LayerSupportCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (options.LayerMode == LayerKind.Snapshots)
            {
                await client.CustomObjects.ListNamespacedCustomObjectAsync<VolumeSnapshotList>(VolumeSnapshot.Group, VolumeSnapshot.Version, options.Namespace, VolumeSnapshot.Plural,
                    limit: 1, cancellationToken: cancellationToken);
            }
            else
            {
                await client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(options.LayersClaim, options.Namespace, cancellationToken: cancellationToken);
            }
        }
        catch (Exception e) when (KubernetesCalls.IsStatus(e, HttpStatusCode.NotFound))
        {
            throw new OptionsValidationException(KubernetesOptions.SectionName, typeof(KubernetesOptions),
            [
                options.LayerMode == LayerKind.Snapshots
                    ? $"Taidon:Kubernetes:Layers is Snapshots, and the cluster has no {VolumeSnapshot.Group}/{VolumeSnapshot.Version} API (no CSI snapshots: k3s's local-path and many "
                      + "on-premises clusters). Set Taidon:Kubernetes:Layers=Archives and Taidon:Kubernetes:LayersClaim to a PersistentVolumeClaim in the instances' namespace "
                      + "(the chart: instances.layers: archives), or install the snapshot CRDs and a CSI driver that takes snapshots."
                    : $"Taidon:Kubernetes:LayersClaim '{options.LayersClaim}' is not a PersistentVolumeClaim in the instances' namespace {options.Namespace}: make it "
                      + "(ReadWriteMany when instances run on several nodes; the chart makes it with instances.layers: archives), or name the one that holds the archive layers.",
            ]);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Could not check that the cluster offers the {Layers} layers: {Problem}", options.LayerMode, KubernetesCalls.Describe(e));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
