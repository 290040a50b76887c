using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Instances;

/// <summary>The limits an instance runs with, from its owner's quota.</summary>
public sealed record InstanceLimits(
    int MaxConnections = 10,
    TimeSpan? StatementTimeout = null,
    TimeSpan? IdleInTransactionTimeout = null,
    long TempFileLimitBytes = 256L * 1024 * 1024,
    int WorkMemKilobytes = 4096)
{
    public TimeSpan EffectiveStatementTimeout => StatementTimeout ?? TimeSpan.FromSeconds(30);

    public TimeSpan EffectiveIdleInTransactionTimeout => IdleInTransactionTimeout ?? TimeSpan.FromMinutes(1);
}

/// <summary>What an instance uses, where the runtime knows it: its files on disk, whether it runs.</summary>
public sealed record InstanceUsage(long DiskBytes, bool Running);

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

    /// <summary>Starts a stopped instance (scale to zero and back); returns how to connect.</summary>
    Task<InstanceConnection> StartAsync(Guid instanceId, InstanceLimits limits, CancellationToken cancellationToken);

    Task StopAsync(Guid instanceId, CancellationToken cancellationToken);

    /// <summary>Stops the instance and removes it with its data; an instance that does not exist is already deleted.</summary>
    Task DeleteAsync(Guid instanceId, CancellationToken cancellationToken);

    Task<bool> IsRunningAsync(Guid instanceId, CancellationToken cancellationToken);

    /// <summary>Whether a layer for this state is stored (the base state's layer counts like any other).</summary>
    bool HasLayer(ChainKey key);

    /// <summary>Stores the instance's current state as the layer <paramref name="key"/>.</summary>
    Task<SnapshotLayer> CaptureAsync(Guid instanceId, ChainKey key, ChainKey? parent, InstanceLimits limits, CancellationToken cancellationToken);

    /// <summary>What the instance uses now; null when the runtime cannot tell.</summary>
    Task<InstanceUsage?> UsageAsync(Guid instanceId, CancellationToken cancellationToken) => Task.FromResult<InstanceUsage?>(null);

    /// <summary>Puts the instance into the state of a layer; throws <see cref="SnapshotDamagedException"/> for a damaged one.</summary>
    Task RestoreAsync(Guid instanceId, ChainKey key, InstanceLimits limits, CancellationToken cancellationToken);
}
