using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Npgsql;
using Taidon.Core.Common;
using Taidon.Core.Instances;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.Sql;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>
/// The Kubernetes runtime: an instance is a pod running PostgreSQL on a PersistentVolumeClaim in the
/// instances namespace, with a Secret holding its student password, which volume is current and which
/// state it holds. A snapshot layer is taken of a stopped instance's volume and restored into a new volume,
/// as a VolumeSnapshot (the volume's <c>dataSource</c>) or as an archive (unpacked by the pod's init
/// container), whichever <see cref="VolumeLayers"/> the cluster offers. Pod readiness and layer progress come
/// from watches (<see cref="InstanceCluster"/>); transient API errors are retried (<see cref="KubernetesCalls"/>).
/// </summary>
/// <remarks>
/// The runtime never connects to an instance as a superuser: the pod sets the student's password from
/// the Secret in single-user mode before PostgreSQL listens (<see cref="InstanceManifests.StartScript"/>).
/// A layer is taken from a stopped pod, since the volume is whole once the kubelet has unmounted it.
/// </remarks>
public sealed class KubernetesInstanceRuntime(
    InstanceCluster cluster,
    VolumeLayers layers,
    EngineIdentity engine,
    ILogger<KubernetesInstanceRuntime> logger,
    TaidonTelemetry? telemetry = null) : IInstanceRuntime
{
    public const string Database = "workspace";
    public const string StudentRole = "student";

    private static readonly HashSet<string> FatalWaiting = new(StringComparer.Ordinal)
    {
        "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError",
    };

    private readonly SemaphoreSlim _baseLock = new(1, 1);
    private readonly SemaphoreSlim _starts = new(cluster.Options.ConcurrentStarts, cluster.Options.ConcurrentStarts);
    private readonly InstanceManifests _manifests = new(cluster.Options);
    private readonly ConcurrentDictionary<Guid, (long Bytes, long At)> _sizes = new();
    private readonly ConcurrentDictionary<Guid, V1Secret> _written = new();

    private IKubernetes Client => cluster.Client;

    private string Namespace => cluster.Namespace;

    public ISnapshotLayers Layers => layers;

    public bool HasLayer(ChainKey key) => layers.Contains(key);

    public async Task<InstanceConnection> CreateAsync(Guid instanceId, InstanceLimits limits, CancellationToken cancellationToken)
    {
        await StartWatchingAsync(cancellationToken);
        // The watched Secrets say whether it exists; one made meanwhile by another replica is the create's 409.
        if (cluster.Secrets.Find(InstanceNames.Secret(instanceId)) is not null)
        {
            throw new InvalidOperationException($"The instance {instanceId} exists already.");
        }

        await EnsureBaseLayerAsync(limits, cancellationToken);
        var volume = InstanceNames.Volume(instanceId);
        await CreateVolumeAsync(_manifests.Volume(instanceId, volume, limits, engine.Root, LayerBytes(engine.Root)), cancellationToken);
        var secret = await CreateSecretAsync(instanceId, volume, engine.Root, limits, cancellationToken);
        logger.LogInformation("Created instance {InstanceId} from the base state", instanceId);
        return await StartAsync(instanceId, limits, secret, cancellationToken);
    }

    public Task<InstanceConnection> StartAsync(Guid instanceId, InstanceLimits limits, CancellationToken cancellationToken) =>
        StartAsync(instanceId, limits, null, cancellationToken);

    /// <summary>Starts the instance; <paramref name="known"/> is its Secret as a create or a restore just wrote it (not read again).</summary>
    private async Task<InstanceConnection> StartAsync(Guid instanceId, InstanceLimits limits, V1Secret? known, CancellationToken cancellationToken)
    {
        await StartWatchingAsync(cancellationToken);
        var secret = known ?? await FindSecretAsync(instanceId, cancellationToken) ?? throw new InvalidOperationException($"There is no instance {instanceId}.");
        var name = InstanceNames.Pod(instanceId);
        var volume = Annotation(secret, InstanceNames.VolumeAnnotation)!;
        var pod = cluster.Pods.Find(name);
        if (pod is not null && (pod.Metadata.DeletionTimestamp is not null || Failure(pod) is not null || VolumeOf(pod) != volume))
        {
            // A pod that failed (or is going) is replaced: a new one may be scheduled elsewhere, or find the image now.
            // So is one on another volume than the current (a start that raced a restore).
            await StopAsync(instanceId, cancellationToken);
            pod = null;
        }

        var starting = false;
        if (pod is null)
        {
            // A turn of this replica's starts, held until the pod is ready (ConcurrentStarts).
            await _starts.WaitAsync(cancellationToken);
            starting = true;
            pod = _manifests.Pod(instanceId, volume, limits, StateOf(secret), KeyOf(secret, InstanceNames.VolumeLayerAnnotation));
            try
            {
                pod = await CreateOrRefuseAsync(pod, c => Client.CoreV1.CreateNamespacedPodAsync(pod, Namespace, cancellationToken: c), "create a pod", cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // Another start made it first (another replica, or a retry after a lost answer): wait for that one.
                pod = await Client.CoreV1.ReadNamespacedPodAsync(name, Namespace, cancellationToken: cancellationToken);
            }
            catch
            {
                _starts.Release();
                throw;
            }
        }
        else if (limits.Owner is { } owner && InstanceNames.ValueOf(pod.Metadata.Labels, InstanceNames.AccountLabel) != InstanceNames.LabelValue(owner))
        {
            // A warm-pool instance taken by an account: its pod says whose it is now.
            var patch = new V1Patch(new
            {
                metadata = new
                {
                    labels = new Dictionary<string, string> { [InstanceNames.AccountLabel] = InstanceNames.LabelValue(owner) },
                    annotations = new Dictionary<string, string> { [InstanceNames.AccountAnnotation] = owner },
                },
            }, V1Patch.PatchType.MergePatch);
            await KubernetesCalls.RetryAsync(c => Client.CoreV1.PatchNamespacedPodAsync(patch, name, Namespace, cancellationToken: c), logger, "label a pod", cancellationToken);
            await KubernetesCalls.RetryAsync(c => Client.CoreV1.PatchNamespacedSecretAsync(patch, InstanceNames.Secret(instanceId), Namespace, cancellationToken: c), logger, "label a secret", cancellationToken);
        }

        try
        {
            var ready = await WaitReadyAsync(pod, cancellationToken);
            return Login(ready, secret);
        }
        finally
        {
            if (starting)
            {
                _starts.Release();
            }
        }
    }

    public async Task StopAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        await StartWatchingAsync(cancellationToken);
        var name = InstanceNames.Pod(instanceId);
        V1Pod deleting;
        try
        {
            deleting = await KubernetesCalls.RetryAsync(c => Client.CoreV1.DeleteNamespacedPodAsync(name, Namespace, cancellationToken: c), logger, "delete a pod", cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Gone, or going after an earlier attempt whose answer was lost: either way, wait until the watch agrees.
            await cluster.Pods.WaitAsync(name, p => p is null, cluster.Options.StartTimeout, cancellationToken);
            return;
        }

        // Stopped means gone: PostgreSQL has shut down and the kubelet has unmounted the volume.
        var uid = deleting.Metadata.Uid;
        var version = deleting.Metadata.ResourceVersion;
        await cluster.Pods.WaitAsync(name, p => (p is null || p.Metadata.Uid != uid) && cluster.Pods.HasSeen(version), cluster.Options.StartTimeout, cancellationToken)
            .ConfigureAwait(false);
        logger.LogInformation("Stopped instance {InstanceId}", instanceId);
    }

    public async Task DeleteAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        await KubernetesCalls.DeleteAsync(c => Client.CoreV1.DeleteNamespacedPodAsync(InstanceNames.Pod(instanceId), Namespace, gracePeriodSeconds: 0, cancellationToken: c),
            logger, "delete a pod", cancellationToken);
        var volumes = await KubernetesCalls.RetryAsync(
            c => Client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Namespace, labelSelector: $"{InstanceNames.InstanceLabel}={instanceId:N}", cancellationToken: c),
            logger, "list volumes", cancellationToken);
        foreach (var volume in volumes.Items)
        {
            await DeleteVolumeAsync(volume.Metadata.Name, cancellationToken);
        }

        await KubernetesCalls.DeleteAsync(c => Client.CoreV1.DeleteNamespacedSecretAsync(InstanceNames.Secret(instanceId), Namespace, cancellationToken: c),
            logger, "delete a secret", cancellationToken);
        _sizes.TryRemove(instanceId, out _);
        _written.TryRemove(instanceId, out _);
        logger.LogInformation("Deleted instance {InstanceId}", instanceId);
    }

    public async Task<bool> IsRunningAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        await StartWatchingAsync(cancellationToken);
        return cluster.Pods.Find(InstanceNames.Pod(instanceId)) is { } pod && IsReady(pod);
    }

    /// <summary>The instances with any object (Secret, volume, pod), each as old as its oldest object.</summary>
    public async Task<IReadOnlyCollection<RuntimeInstance>> ListAsync(CancellationToken cancellationToken)
    {
        await StartWatchingAsync(cancellationToken);
        var secrets = await KubernetesCalls.RetryAsync(
            c => Client.CoreV1.ListNamespacedSecretAsync(Namespace, labelSelector: InstanceNames.Selector(InstanceNames.InstanceComponent, cluster.Options.Release), cancellationToken: c), logger, "list secrets", cancellationToken);
        var volumes = await KubernetesCalls.RetryAsync(
            c => Client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Namespace, labelSelector: InstanceNames.Selector(InstanceNames.InstanceComponent, cluster.Options.Release), cancellationToken: c), logger, "list volumes", cancellationToken);
        return [.. secrets.Items.Select(s => s.Metadata)
            .Concat(volumes.Items.Select(v => v.Metadata))
            .Concat(cluster.Pods.Objects.Select(p => p.Metadata))
            .Select(m => (Id: InstanceNames.TryParseInstance(InstanceNames.ValueOf(m.Labels, InstanceNames.InstanceLabel), out var id) ? id : Guid.Empty,
                Created: new DateTimeOffset(DateTime.SpecifyKind(m.CreationTimestamp ?? DateTime.UtcNow, DateTimeKind.Utc))))
            .Where(o => o.Id != Guid.Empty)
            .GroupBy(o => o.Id)
            .Select(g => new RuntimeInstance(g.Key, g.Min(o => o.Created)))];
    }

    public int CountRunning() => cluster.Pods.Objects.Count(IsReady);

    /// <summary>The student's login to a ready pod: its address, and the password from the instance's Secret.</summary>
    private static InstanceConnection Login(V1Pod pod, V1Secret secret) =>
        new(pod.Status.PodIP, InstanceManifests.Port, Database, StudentRole, Password(secret));

    /// <summary>
    /// A running instance's size as PostgreSQL reports it (its working database), asked over the student's
    /// own login at most once a minute; a stopped instance keeps its last measure. The volume's own use is
    /// the kubelet's to tell, and asking it needs rights over the node (<c>nodes/proxy</c>) the runtime is not given.
    /// </summary>
    public async Task<InstanceUsage?> UsageAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        await StartWatchingAsync(cancellationToken);
        var pod = cluster.Pods.Find(InstanceNames.Pod(instanceId));
        var running = pod is not null && IsReady(pod);
        var now = Environment.TickCount64;
        _sizes.TryGetValue(instanceId, out var measured);
        if (running && (measured.At == 0 || now - measured.At > 60_000) && await FindSecretAsync(instanceId, cancellationToken) is { } secret
            && await MeasureAsync(instanceId, pod!, secret, cancellationToken) is { } bytes)
        {
            measured = _sizes[instanceId] = (bytes, now);
        }

        return measured.At == 0 ? null : new InstanceUsage(measured.Bytes, running);
    }

    /// <summary>
    /// The working database's size as PostgreSQL reports it, over the student's own login (5 s at most); null
    /// when it cannot be asked.
    /// </summary>
    private async Task<long?> MeasureAsync(Guid instanceId, V1Pod pod, V1Secret secret, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await using var owned = await OneOffConnection.OpenAsync(NpgsqlSqlSessionFactory.PlatformConnectionString(Login(pod, secret), "taidon-usage"), timeout.Token);
            var connection = owned.Connection;
            // Qualified: the student owns the session's search_path and could shadow the functions.
            await using var size = new NpgsqlCommand("SELECT pg_catalog.pg_database_size(pg_catalog.current_database())::bigint", connection);
            return Convert.ToInt64(await size.ExecuteScalarAsync(timeout.Token), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidCastException or FormatException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The page shows the last measure, or none; a layer counts its volume's size instead.
            logger.LogWarning("Could not measure instance {InstanceId}: {Problem}", instanceId, e.Message);
            return null;
        }
    }

    public async Task<LayerCapture> CaptureAsync(Guid instanceId, ChainKey key, ChainKey? parent, InstanceLimits limits, CancellationToken cancellationToken)
    {
        var secret = await FindSecretAsync(instanceId, cancellationToken) ?? throw new InvalidOperationException($"There is no instance {instanceId}.");
        // What the layer holds, in real bytes for the cache's budget (a snapshot's restoreSize is its volume's whole size).
        var bytes = cluster.Pods.Find(InstanceNames.Pod(instanceId)) is { } pod && IsReady(pod) ? await MeasureAsync(instanceId, pod, secret, cancellationToken) : null;
        if (bytes is { } measured)
        {
            // The admin page's measure too: the capture has just taken it.
            _sizes[instanceId] = (measured, Environment.TickCount64);
        }

        await StopAsync(instanceId, cancellationToken);
        V1Secret? annotated = null;
        try
        {
            // A layer takes a turn of the starts: the CSI driver (or the node's disks) is what a class's starts and captures share.
            await _starts.WaitAsync(cancellationToken);
            try
            {
                await TakeLayerAsync(Annotation(secret, InstanceNames.VolumeAnnotation)!, key, parent, bytes, cancellationToken);
            }
            finally
            {
                _starts.Release();
            }

            annotated = await AnnotateAsync(instanceId, null, key, cancellationToken);
        }
        finally
        {
            await StartAsync(instanceId, limits, annotated ?? secret, cancellationToken);
        }

        // Cut is enough: the layer counts (HasLayer) once the driver has it ready, which on cloud disks takes minutes.
        return LayerCapture.Done(layers.Find(key) ?? throw new InvalidOperationException($"The layer {key.Short} was taken and is gone already."), sessionsKept: false);
    }

    public async Task RestoreAsync(Guid instanceId, ChainKey key, InstanceLimits limits, CancellationToken cancellationToken)
    {
        await StartWatchingAsync(cancellationToken);
        var secret = await FindSecretAsync(instanceId, cancellationToken) ?? throw new InvalidOperationException($"There is no instance {instanceId}.");
        if (layers.Failure(key) is { } error)
        {
            CountFailure("restore");
            await layers.RemoveAsync(key, cancellationToken);
            throw new SnapshotDamagedException(key, error);
        }

        if (!layers.Contains(key))
        {
            // Evicted meanwhile (the collector may run in another replica): the run plans again and replays.
            throw new SnapshotDamagedException(key, "it is gone or not ready");
        }

        using var use = layers.Use(key);

        // The new volume is made beside the current one: until the pod moves to it, the instance is as it was.
        var volume = InstanceNames.Volume(instanceId);
        var previous = Annotation(secret, InstanceNames.VolumeAnnotation);
        try
        {
            await CreateVolumeAsync(_manifests.Volume(instanceId, volume, limits, key, LayerBytes(key)), cancellationToken);
            await StopAsync(instanceId, cancellationToken);
            var annotated = await AnnotateAsync(instanceId, volume, key, cancellationToken);
            await StartAsync(instanceId, limits, annotated, cancellationToken);
        }
        catch (InstanceUnavailableException) when (cluster.Pods.Find(InstanceNames.Pod(instanceId)) is { } pod && InitFailure(pod) is { } unpack)
        {
            // The layer did not reach the new volume (its archive is gone from the layers' volume): it is damaged,
            // and the run plans again without it.
            CountFailure("restore");
            await layers.RemoveAsync(key, cancellationToken);
            throw new SnapshotDamagedException(key, unpack);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            CountFailure("restore");
            throw;
        }

        if (previous is not null && previous != volume)
        {
            await DeleteVolumeAsync(previous, cancellationToken);
        }
    }

    /// <summary>The watches run from the first call on; until their first list is in, no call goes on.</summary>
    private Task StartWatchingAsync(CancellationToken cancellationToken) => cluster.StartAsync(cancellationToken);

    /// <summary>The base state's volume: small, since every volume made from the base state is at least its size.</summary>
    public const int BaseVolumeMegabytes = 256;

    /// <summary>
    /// The base state (h_0) as a layer: a pod initializes an empty volume, which is taken as a layer once, by
    /// whoever comes first (two replicas at once end with one layer: the second's is the first's).
    /// </summary>
    private async Task EnsureBaseLayerAsync(InstanceLimits limits, CancellationToken cancellationToken)
    {
        if (layers.Contains(engine.Root))
        {
            return;
        }

        await _baseLock.WaitAsync(cancellationToken);
        try
        {
            if (layers.Contains(engine.Root))
            {
                return;
            }

            if (layers.IsUsable(engine.Root) is not true)
            {
                await BuildBaseLayerAsync(limits with { Owner = null, StorageMegabytes = BaseVolumeMegabytes }, cancellationToken);
            }

            // Made here or by another replica: new volumes come from it once it is ready.
            await layers.WaitReadyAsync(engine.Root, cancellationToken);
        }
        finally
        {
            _baseLock.Release();
        }
    }

    private async Task BuildBaseLayerAsync(InstanceLimits limits, CancellationToken cancellationToken)
    {
        var builder = Guid.NewGuid();
        try
        {
            var volume = InstanceNames.Volume(builder);
            await CreateVolumeAsync(_manifests.Volume(builder, volume, limits, null, null), cancellationToken);
            await CreateSecretAsync(builder, volume, null, limits, cancellationToken);
            await StartAsync(builder, limits, cancellationToken);
            await StopAsync(builder, cancellationToken);
            await TakeLayerAsync(volume, engine.Root, null, null, cancellationToken);
            logger.LogInformation("Took the base state {Key} for new instances", engine.Root.Short);
        }
        finally
        {
            try
            {
                await DeleteAsync(builder, CancellationToken.None);
            }
            catch (Exception e)
            {
                // Left for the reconciliation (it removes instances without a record once they are old).
                logger.LogWarning("Removing the base state's builder {InstanceId} failed: {Problem}", builder, KubernetesCalls.Describe(e));
            }
        }
    }

    /// <summary>Takes a layer of a stopped instance's volume; returns when the volume may be used again.</summary>
    private async Task TakeLayerAsync(string volume, ChainKey key, ChainKey? parent, long? bytes, CancellationToken cancellationToken)
    {
        try
        {
            await layers.TakeAsync(volume, key, parent, bytes, cancellationToken);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            CountFailure("capture");
            throw;
        }
    }

    /// <summary>Counted for the alert on failing layers (a CSI driver or VolumeSnapshotClass that stopped working, a full layers' volume).</summary>
    private void CountFailure(string kind) => telemetry?.SnapshotsFailed.Add(1, new KeyValuePair<string, object?>("kind", kind));

    private async Task<V1Pod> WaitReadyAsync(V1Pod created, CancellationToken cancellationToken)
    {
        var name = created.Metadata.Name;
        var uid = created.Metadata.Uid;
        V1Pod? last = null;
        string? failure = null;
        try
        {
            return (await cluster.Pods.WaitAsync(name, pod =>
            {
                if (pod is null || (uid is not null && pod.Metadata.Uid != uid))
                {
                    return false;
                }

                last = pod;
                failure = Failure(pod);
                return failure is not null || IsReady(pod);
            }, cluster.Options.StartTimeout, cancellationToken) is { } pod && failure is null ? pod : throw Unavailable($"failed to start: {failure}"));
        }
        catch (TimeoutException)
        {
            throw Unavailable($"was not ready after {cluster.Options.StartTimeoutSeconds} s ({Describe(last)}); Taidon:Kubernetes:StartTimeoutSeconds sets the wait");
        }

        InstanceUnavailableException Unavailable(string what)
        {
            var message = $"The instance's pod {name} {what}. See `kubectl -n {Namespace} describe pod {name}`.";
            logger.LogWarning("{Problem}", message);
            return new InstanceUnavailableException(message);
        }
    }

    private static bool IsReady(V1Pod pod) =>
        pod.Metadata.DeletionTimestamp is null
        && !string.IsNullOrEmpty(pod.Status?.PodIP)
        && pod.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>Why the pod cannot become ready by waiting (it ended, or a container cannot start); null while it may still.</summary>
    public static string? Failure(V1Pod pod)
    {
        if (pod.Status?.Phase is "Failed" or "Succeeded")
        {
            return $"the pod {pod.Status.Phase.ToLowerInvariant()} ({pod.Status.Reason}: {pod.Status.Message})";
        }

        if (InitFailure(pod) is { } init)
        {
            return init;
        }

        return pod.Status?.ContainerStatuses?
            .Select(c => c.State?.Waiting)
            .Where(w => w?.Reason is not null && FatalWaiting.Contains(w.Reason))
            .Select(w => $"{w!.Reason}: {w.Message}")
            .FirstOrDefault();
    }

    /// <summary>
    /// An init container (unpacking a layer) that failed, said as the kubelet would (Init:Error; it would only try
    /// it again, then Init:CrashLoopBackOff); null when none did.
    /// </summary>
    private static string? InitFailure(V1Pod pod)
    {
        var init = pod.Status?.InitContainerStatuses?.FirstOrDefault(c => c.State?.Terminated is { ExitCode: not 0 } || c.LastState?.Terminated is { ExitCode: not 0 });
        if (init is null)
        {
            return null;
        }

        var ended = init.State?.Terminated is { ExitCode: not 0 } now ? now : init.LastState.Terminated;
        return $"Init:Error: the init container {init.Name} exited with {ended.ExitCode}: {ended.Message?.Trim()}";
    }

    private static string Describe(V1Pod? pod)
    {
        if (pod is null)
        {
            return "the pod was never seen";
        }

        var unscheduled = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == "False");
        var waiting = pod.Status?.ContainerStatuses?.Select(c => c.State?.Waiting).FirstOrDefault(w => w is not null);
        return unscheduled is not null ? $"not scheduled: {unscheduled.Message}"
            : waiting is not null ? $"{waiting.Reason}: {waiting.Message}"
            : $"phase {pod.Status?.Phase ?? "unknown"}";
    }

    /// <summary>Creates an object; a refusal by the namespace's ResourceQuota or LimitRange (403, 422) makes the instance unavailable, said so.</summary>
    private async Task<T> CreateOrRefuseAsync<T>(T obj, Func<CancellationToken, Task<T>> create, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await KubernetesCalls.RetryAsync(create, logger, what, cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.UnprocessableEntity)
        {
            var message = $"The cluster refused to {what} in {Namespace}: {KubernetesCalls.Describe(e)}. Check the namespace's ResourceQuota and LimitRange against the quotas in /admin/quotas.";
            logger.LogWarning("{Problem}", message);
            throw new InstanceUnavailableException(message, e);
        }
    }

    private async Task CreateVolumeAsync(V1PersistentVolumeClaim volume, CancellationToken cancellationToken)
    {
        try
        {
            await CreateOrRefuseAsync(volume, c => Client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(volume, Namespace, cancellationToken: c), "create a volume", cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Made by an attempt whose answer was lost: the name carries a random generation, so it is ours.
        }
    }

    private Task DeleteVolumeAsync(string name, CancellationToken cancellationToken) =>
        KubernetesCalls.DeleteAsync(c => Client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(name, Namespace, cancellationToken: c), logger, "delete a volume", cancellationToken);

    /// <summary>Creates the instance's Secret and returns it as the API server stored it.</summary>
    private async Task<V1Secret> CreateSecretAsync(Guid instanceId, string volume, ChainKey? state, InstanceLimits limits, CancellationToken cancellationToken)
    {
        var secret = _manifests.Secret(instanceId, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(18)), volume, limits);
        if (state is { } key)
        {
            // The volume is made from this state's layer.
            secret.Metadata.Annotations[InstanceNames.StateAnnotation] = key.ToString();
            secret.Metadata.Annotations[InstanceNames.VolumeLayerAnnotation] = key.ToString();
        }

        try
        {
            return Wrote(instanceId, await KubernetesCalls.RetryAsync(c => Client.CoreV1.CreateNamespacedSecretAsync(secret, Namespace, cancellationToken: c), logger, "create a secret", cancellationToken));
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Ours when it names our volume (an attempt whose answer was lost); another's otherwise.
            var existing = await FindSecretAsync(instanceId, cancellationToken);
            if (existing is null || Annotation(existing, InstanceNames.VolumeAnnotation) != volume)
            {
                throw new InvalidOperationException($"The instance {instanceId} exists already.", e);
            }

            return existing;
        }
    }

    /// <summary>
    /// Records on the instance's Secret which state it holds and, when it moves to a new volume (made from
    /// that state's layer), which volume is current (a new pod is made from them); returns the Secret as patched.
    /// </summary>
    private async Task<V1Secret> AnnotateAsync(Guid instanceId, string? volume, ChainKey state, CancellationToken cancellationToken)
    {
        var annotations = new Dictionary<string, string> { [InstanceNames.StateAnnotation] = state.ToString() };
        if (volume is not null)
        {
            annotations[InstanceNames.VolumeAnnotation] = volume;
            annotations[InstanceNames.VolumeLayerAnnotation] = state.ToString();
        }

        var patch = new V1Patch(new
        {
            metadata = new
            {
                labels = new Dictionary<string, string> { [InstanceNames.StateLabel] = state.Short },
                annotations,
            },
        }, V1Patch.PatchType.MergePatch);
        return Wrote(instanceId, await KubernetesCalls.RetryAsync(c => Client.CoreV1.PatchNamespacedSecretAsync(patch, InstanceNames.Secret(instanceId), Namespace, cancellationToken: c), logger, "annotate a secret", cancellationToken));
    }

    /// <summary>
    /// The instance's Secret: the newer of what the watch has and what this runtime last wrote (a capture right
    /// after a restore must see the new volume even if the watch is a moment behind); read from the API server
    /// only when neither has it (made a moment ago by another replica).
    /// </summary>
    private async Task<V1Secret?> FindSecretAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        var watched = cluster.Secrets.Find(InstanceNames.Secret(instanceId));
        var newest = _written.TryGetValue(instanceId, out var written) && (watched is null || Version(written) > Version(watched)) ? written : watched;
        return newest ?? await KubernetesCalls.FindAsync(c => Client.CoreV1.ReadNamespacedSecretAsync(InstanceNames.Secret(instanceId), Namespace, cancellationToken: c), logger, "read a secret", cancellationToken);
    }

    /// <summary>An object's resourceVersion as a number (etcd's revision; 0 when it is not one, so the watch's copy wins).</summary>
    private static ulong Version(V1Secret secret) =>
        ulong.TryParse(secret.Metadata?.ResourceVersion, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) ? version : 0;

    /// <summary>Remembers the Secret as this runtime just wrote it.</summary>
    private V1Secret Wrote(Guid instanceId, V1Secret secret) => _written[instanceId] = secret;

    private long? LayerBytes(ChainKey key) => layers.Find(key)?.SizeBytes;

    private static string? VolumeOf(V1Pod pod) => pod.Spec?.Volumes?.FirstOrDefault(v => v.Name == "data")?.PersistentVolumeClaim?.ClaimName;

    private static string? Annotation(V1Secret secret, string name) => InstanceNames.ValueOf(secret.Metadata.Annotations, name);

    private static ChainKey? StateOf(V1Secret secret) => KeyOf(secret, InstanceNames.StateAnnotation);

    private static ChainKey? KeyOf(V1Secret secret, string annotation) => ChainKey.TryParse(Annotation(secret, annotation), out var key) ? key : null;

    private static string Password(V1Secret secret) =>
        InstanceNames.ValueOf(secret, "password") ?? throw new InvalidOperationException($"The secret {secret.Metadata.Name} has no password.");
}
