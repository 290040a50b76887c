namespace Taidon.Core.Instances;

/// <summary>
/// Bounds an instance's disk while a run uses it, where the runtime's storage has no bound of its own (the
/// embedded runtime: every instance shares the data directory's filesystem with the projects and the layers).
/// </summary>
public interface IStorageGuard
{
    /// <summary>Watches the instance until the watch is disposed; past <see cref="InstanceLimits.StorageMegabytes"/> the student's running statement is cancelled.</summary>
    IStorageWatch Watch(Guid instanceId, InstanceLimits limits);
}

/// <summary>One run's watch over its instance's disk.</summary>
public interface IStorageWatch : IAsyncDisposable
{
    /// <summary>The size the instance had grown to when its statement was cancelled, or null while it is within its bound.</summary>
    long? ExceededBytes { get; }
}
