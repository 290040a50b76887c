namespace Taidon.Core.Instances;

/// <summary>
/// Gives an instance to one operation at a time (a run, a reset, a restart, an admin's stop or delete),
/// so that none of them sees another's half-done state.
/// </summary>
/// <remarks>
/// In one process a semaphore per instance is enough; several replicas of the app need a gate shared
/// through the control plane (an advisory lock per instance), behind this same port.
/// </remarks>
public interface IInstanceGate
{
    /// <summary>Waits until the instance is free, then holds it until the result is disposed.</summary>
    ValueTask<IAsyncDisposable> EnterAsync(Guid instanceId, CancellationToken cancellationToken);
}
