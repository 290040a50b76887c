using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>
/// The instances namespace as the runtime sees it: the API client, and the watched indexes of the
/// runtime's pods, instance Secrets and layers (one watch each, shared by every wait and read: a start
/// reads its Secret from here, not from the API server). Layers are VolumeSnapshots or archive records
/// (ConfigMaps), whichever <see cref="KubernetesOptions.LayerMode"/> says: a cluster without the snapshot
/// CRDs is never asked for snapshots.
/// </summary>
public sealed class InstanceCluster : IAsyncDisposable
{
    public InstanceCluster(IKubernetes client, KubernetesOptions options, ILogger<InstanceCluster> logger)
    {
        Client = client;
        Options = options;
        Namespace = options.Namespace!;
        Logger = logger;
        Pods = new ObjectIndex<V1Pod>(
            async c =>
            {
                var pods = await KubernetesCalls.RetryAsync(
                    t => client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: InstanceNames.ReleaseSelector(options.Release), cancellationToken: t), logger, "list pods", c);
                return ([.. pods.Items], pods.Metadata?.ResourceVersion);
            },
            // Instances' pods and the one-shot pods that archive and unpack layers.
            (version, onError, c) => client.CoreV1.WatchListNamespacedPodAsync(Namespace, allowWatchBookmarks: true, labelSelector: InstanceNames.ReleaseSelector(options.Release),
                resourceVersion: version, timeoutSeconds: (int)ObjectIndex<V1Pod>.WatchTimeout.TotalSeconds, onError: onError, cancellationToken: c),
            logger);
        Secrets = new ObjectIndex<V1Secret>(
            async c =>
            {
                var secrets = await KubernetesCalls.RetryAsync(
                    t => client.CoreV1.ListNamespacedSecretAsync(Namespace, labelSelector: InstanceNames.Selector(InstanceNames.InstanceComponent, options.Release), cancellationToken: t), logger, "list secrets", c);
                return ([.. secrets.Items], secrets.Metadata?.ResourceVersion);
            },
            (version, onError, c) => client.CoreV1.WatchListNamespacedSecretAsync(Namespace, allowWatchBookmarks: true, labelSelector: InstanceNames.Selector(InstanceNames.InstanceComponent, options.Release),
                resourceVersion: version, timeoutSeconds: (int)ObjectIndex<V1Secret>.WatchTimeout.TotalSeconds, onError: onError, cancellationToken: c),
            logger);
        if (options.LayerMode == LayerKind.Archives)
        {
            _archives = new ObjectIndex<V1ConfigMap>(
                async c =>
                {
                    var records = await KubernetesCalls.RetryAsync(
                        t => client.CoreV1.ListNamespacedConfigMapAsync(Namespace, labelSelector: InstanceNames.Selector(InstanceNames.LayerComponent, options.Release), cancellationToken: t),
                        logger, "list layer records", c);
                    return ([.. records.Items], records.Metadata?.ResourceVersion);
                },
                (version, onError, c) => client.CoreV1.WatchListNamespacedConfigMapAsync(Namespace, allowWatchBookmarks: true,
                    labelSelector: InstanceNames.Selector(InstanceNames.LayerComponent, options.Release), resourceVersion: version,
                    timeoutSeconds: (int)ObjectIndex<V1ConfigMap>.WatchTimeout.TotalSeconds, onError: onError, cancellationToken: c),
                logger);
            return;
        }

        _snapshots = new ObjectIndex<VolumeSnapshot>(
            async c =>
            {
                var snapshots = await KubernetesCalls.RetryAsync(
                    t => client.CustomObjects.ListNamespacedCustomObjectAsync<VolumeSnapshotList>(VolumeSnapshot.Group, VolumeSnapshot.Version, Namespace, VolumeSnapshot.Plural,
                        labelSelector: InstanceNames.Selector(InstanceNames.LayerComponent, options.Release), cancellationToken: t), logger, "list volume snapshots", c);
                return ([.. snapshots.Items], snapshots.Metadata?.ResourceVersion);
            },
            (version, onError, c) => WatchSnapshotsAsync(version, onError, c),
            logger);
    }

    public IKubernetes Client { get; }

    public KubernetesOptions Options { get; }

    public string Namespace { get; }

    public ILogger Logger { get; }

    public ObjectIndex<V1Pod> Pods { get; }

    public ObjectIndex<V1Secret> Secrets { get; }

    /// <summary>The VolumeSnapshot layers (only when layers are snapshots).</summary>
    public ObjectIndex<VolumeSnapshot> Snapshots => _snapshots ?? throw new InvalidOperationException("The snapshot layers' index is asked for, but Taidon:Kubernetes:Layers is Archives.");

    /// <summary>The archive layers' records, a ConfigMap per layer (only when layers are archives).</summary>
    public ObjectIndex<V1ConfigMap> Archives => _archives ?? throw new InvalidOperationException("The archive layers' index is asked for, but Taidon:Kubernetes:Layers is Snapshots.");

    private readonly ObjectIndex<VolumeSnapshot>? _snapshots;
    private readonly ObjectIndex<V1ConfigMap>? _archives;

    /// <summary>Every watched index by what it holds, for readiness.</summary>
    public IReadOnlyList<(string Kind, IWatchedIndex Index)> Indexes =>
        [("pods", Pods), ("secrets", Secrets), _snapshots is not null ? ("volume snapshots", _snapshots) : ("archive layers", _archives!)];

    /// <summary>The layers' index, whichever it is, for what both kinds share (start, stop).</summary>
    private IAsyncDisposable LayerIndex => (IAsyncDisposable?)_snapshots ?? _archives!;

    private async IAsyncEnumerable<(WatchEventType, VolumeSnapshot)> WatchSnapshotsAsync(string? version, Action<Exception> onError, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var (type, item) in Client.CustomObjects.WatchListNamespacedCustomObjectAsync(VolumeSnapshot.Group, VolumeSnapshot.Version, Namespace, VolumeSnapshot.Plural,
            allowWatchBookmarks: true, labelSelector: InstanceNames.Selector(InstanceNames.LayerComponent, Options.Release), resourceVersion: version,
            timeoutSeconds: (int)ObjectIndex<VolumeSnapshot>.WatchTimeout.TotalSeconds, onError: onError, cancellationToken: cancellationToken))
        {
            var snapshot = item switch
            {
                JsonElement json => KubernetesJson.Deserialize<VolumeSnapshot>(json),
                VolumeSnapshot typed => typed,
                _ => KubernetesJson.Deserialize<VolumeSnapshot>(KubernetesJson.Serialize(item)),
            };
            yield return (type, snapshot);
        }
    }

    /// <summary>Starts both watches; returns when their first lists are in, or says why they are not within the start timeout.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Pods.StartAsync(Options.StartTimeout, cancellationToken);
            await Secrets.StartAsync(Options.StartTimeout, cancellationToken);
            await (_snapshots is not null ? _snapshots.StartAsync(Options.StartTimeout, cancellationToken) : _archives!.StartAsync(Options.StartTimeout, cancellationToken));
        }
        catch (InvalidOperationException e)
        {
            throw new Core.Instances.InstanceUnavailableException(
                $"{e.Message} Check Taidon:Kubernetes:Namespace ({Namespace}), the app's Role there, and "
                + (_snapshots is not null ? "that the VolumeSnapshot CRDs are installed (without them, set Taidon:Kubernetes:Layers=Archives and LayersClaim)." : "that it may list configmaps (archive layers)."), e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Pods.DisposeAsync();
        await Secrets.DisposeAsync();
        await LayerIndex.DisposeAsync();
    }
}

/// <summary>
/// Starts the watches when the app starts, without holding the start up: until their first lists are in,
/// planning sees no layers (a run would replay), and the runtime's calls wait for them.
/// </summary>
public sealed class InstanceClusterWatches(InstanceCluster cluster, ILogger<InstanceClusterWatches> logger) : Microsoft.Extensions.Hosting.IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                await cluster.StartAsync(CancellationToken.None);
                logger.LogInformation("Watching the instances' pods, secrets and {Layers} in {Namespace}", cluster.Options.LayerMode, cluster.Namespace);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Watching the instances' namespace {Namespace} failed to start", cluster.Namespace);
            }
        }, CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
