using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Instances;

/// <summary>The limits an instance runs with, from its owner's quota.</summary>
/// <remarks>
/// CPU, memory and storage are Kubernetes quantities: the Kubernetes runtime applies them as requests,
/// limits and the volume's size, the embedded runtime through a control group and its storage guard;
/// <paramref name="Owner"/> is the account whose quota gave the limits (none
/// for the warm pool), which that runtime puts on the instance's pod as a label.
/// </remarks>
public sealed record InstanceLimits(
    int MaxConnections = 10,
    TimeSpan? StatementTimeout = null,
    TimeSpan? IdleInTransactionTimeout = null,
    long TempFileLimitBytes = 256L * 1024 * 1024,
    int WorkMemKilobytes = 4096,
    string Cpu = "1",
    string Memory = "512Mi",
    int StorageMegabytes = 1024,
    string? Owner = null)
{
    public TimeSpan EffectiveStatementTimeout => StatementTimeout ?? TimeSpan.FromSeconds(30);

    public TimeSpan EffectiveIdleInTransactionTimeout => IdleInTransactionTimeout ?? TimeSpan.FromMinutes(1);
}

/// <summary>
/// What an instance uses, where the runtime knows it: its size (embedded: its files on disk; Kubernetes: its
/// working database as PostgreSQL measures it) and whether it runs.
/// </summary>
public sealed record InstanceUsage(long DiskBytes, bool Running);

/// <summary>An instance as the runtime has it: since when (its record is written after it is made, so a young one may have none yet).</summary>
public sealed record RuntimeInstance(Guid Id, DateTimeOffset CreatedAt);

/// <summary>How a student's tools reach an instance: its own non-superuser role, owner of the working database.</summary>
public sealed record InstanceConnection(string Host, int Port, string Database, string User, string Password);

/// <summary>
/// Private PostgreSQL instances and their snapshot layers. The embedded runtime runs local clusters;
/// the Kubernetes runtime runs pods and CSI snapshots behind the same port.
/// </summary>
public interface IInstanceRuntime
{
    /// <summary>Creates and starts an instance in the base state (h_0): an empty working database owned by the student role.</summary>
    Task<InstanceConnection> CreateAsync(Guid instanceId, InstanceLimits limits, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a stopped instance (scale to zero and back); returns how to connect. A running one is left as it
    /// is: asked again after a restore, it says how to reach the server now (a restore may switch servers).
    /// </summary>
    Task<InstanceConnection> StartAsync(Guid instanceId, InstanceLimits limits, CancellationToken cancellationToken);

    Task StopAsync(Guid instanceId, CancellationToken cancellationToken);

    /// <summary>Stops the instance and removes it with its data; an instance that does not exist is already deleted.</summary>
    Task DeleteAsync(Guid instanceId, CancellationToken cancellationToken);

    Task<bool> IsRunningAsync(Guid instanceId, CancellationToken cancellationToken);

    /// <summary>The instances that exist in the runtime (running or stopped), for reconciling them with the control plane's records.</summary>
    Task<IReadOnlyCollection<RuntimeInstance>> ListAsync(CancellationToken cancellationToken);

    /// <summary>How many instances run now (for the active-instances gauge).</summary>
    int CountRunning();

    /// <summary>The snapshot layers this runtime restores from and captures into.</summary>
    ISnapshotLayers Layers { get; }

    /// <summary>Whether a layer for this state is stored (the base state's layer counts like any other).</summary>
    bool HasLayer(ChainKey key) => Layers.Contains(key);

    /// <summary>
    /// Stores the instance's current state as the layer <paramref name="key"/>. The instance runs afterwards;
    /// <see cref="LayerCapture.SessionsKept"/> says whether its open sessions lived through it (a snapshot of
    /// the running instance) or were ended by a restart.
    /// </summary>
    Task<LayerCapture> CaptureAsync(Guid instanceId, ChainKey key, ChainKey? parent, InstanceLimits limits, CancellationToken cancellationToken);

    /// <summary>What the instance uses now; null when the runtime cannot tell (yet).</summary>
    Task<InstanceUsage?> UsageAsync(Guid instanceId, CancellationToken cancellationToken);

    /// <summary>The size of the disk that holds the instances, where they share one (the embedded runtime); null where each has a volume of its own.</summary>
    long? StorageCapacityBytes => null;

    /// <summary>What is used of that disk now, by anything (a cheap upper bound of what the instances take); null where <see cref="StorageCapacityBytes"/> is.</summary>
    long? StorageUsedBytes => null;

    /// <summary>Puts the instance into the state of a layer; throws <see cref="SnapshotDamagedException"/> for a damaged one.</summary>
    Task RestoreAsync(Guid instanceId, ChainKey key, InstanceLimits limits, CancellationToken cancellationToken);
}

/// <summary>
/// A layer captured from an instance: <see cref="Published"/> finishes when the layer is stored (a runtime
/// may finish storing it while the instance goes on), and whether the instance's sessions lived through it.
/// </summary>
public sealed record LayerCapture(Task<SnapshotLayer> Published, bool SessionsKept)
{
    public static LayerCapture Done(SnapshotLayer layer, bool sessionsKept) => new(Task.FromResult(layer), sessionsKept);
}

/// <summary>
/// An instance could not be started or reached (its pod failed, or was not ready in time). The message
/// says why for the log and the admins; students are told to try again.
/// </summary>
public sealed class InstanceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The account has no instance by this id (never had, or it is another account's: both read the same).</summary>
public sealed class InstanceNotFoundException(Guid id) : Exception($"You have no instance {id}.");
