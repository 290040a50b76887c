using Taidon.Core.Instances;

namespace Taidon.Infrastructure.Runs;

/// <summary>
/// The instance gate of one process: a semaphore per instance, kept while someone holds or waits for it
/// (a week of guests is thousands of instances; their gates go with their last run).
/// </summary>
public sealed class ProcessInstanceGate : IInstanceGate
{
    private readonly Dictionary<Guid, Gate> _gates = [];

    /// <summary>Instances whose gate is held or waited for now.</summary>
    internal int Count
    {
        get
        {
            lock (_gates)
            {
                return _gates.Count;
            }
        }
    }

    public async ValueTask<IAsyncDisposable> EnterAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        Gate gate;
        lock (_gates)
        {
            if (!_gates.TryGetValue(instanceId, out gate!))
            {
                _gates[instanceId] = gate = new Gate();
            }

            gate.Users++;
        }

        try
        {
            await gate.Semaphore.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(instanceId, gate);
            throw;
        }

        return new Held(this, instanceId, gate);
    }

    private void Leave(Guid instanceId, Gate gate)
    {
        lock (_gates)
        {
            if (--gate.Users == 0)
            {
                _gates.Remove(instanceId);
            }
        }
    }

    private sealed class Gate
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        /// <summary>Holders and waiters (changed under the dictionary's lock).</summary>
        public int Users { get; set; }
    }

    private sealed class Held(ProcessInstanceGate gates, Guid instanceId, Gate gate) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Semaphore.Release();
                gates.Leave(instanceId, gate);
            }

            return ValueTask.CompletedTask;
        }
    }
}
