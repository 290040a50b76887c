namespace Taidon.Core.Quotas;

/// <summary>
/// Counts events per key in a sliding window (an account's runs per minute), refusing past a limit.
/// </summary>
/// <remarks>
/// In one process the counts live in memory; several replicas need counts shared through the control
/// plane, behind this same port, or an account's limit multiplies by the replicas.
/// </remarks>
public interface IRateCounter
{
    /// <summary>Counts one event for <paramref name="key"/> unless <paramref name="limit"/> were already counted within <paramref name="window"/>; false (counting nothing) then.</summary>
    bool TryCount(string key, int limit, TimeSpan window);
}
