using System.Collections.Concurrent;

namespace Taidon.Infrastructure.Runs;

/// <summary>One gate per instance in this process: a run, a reset or an admin's stop has the instance alone.</summary>
internal static class InstanceGates
{
    private static readonly ConcurrentDictionary<Guid, SemaphoreSlim> Gates = new();

    public static SemaphoreSlim For(Guid instanceId) => Gates.GetOrAdd(instanceId, _ => new SemaphoreSlim(1, 1));
}
