using System.Collections.Concurrent;
using Taidon.Core.Quotas;

namespace Taidon.Infrastructure.Quotas;

/// <summary>The rate counter of one process: the times of the events within the window, per key.</summary>
public sealed class ProcessRateCounter(TimeProvider clock) : IRateCounter
{
    private readonly ConcurrentDictionary<string, Queue<long>> _windows = new();

    public bool TryCount(string key, int limit, TimeSpan window)
    {
        var now = clock.GetTimestamp();
        var events = _windows.GetOrAdd(key, _ => new Queue<long>());
        lock (events)
        {
            while (events.Count > 0 && clock.GetElapsedTime(events.Peek(), now) >= window)
            {
                events.Dequeue();
            }

            if (events.Count >= limit)
            {
                return false;
            }

            events.Enqueue(now);
            return true;
        }
    }
}
