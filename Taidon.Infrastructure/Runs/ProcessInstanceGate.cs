using System.Collections.Concurrent;
using Taidon.Core.Instances;

namespace Taidon.Infrastructure.Runs;

/// <summary>The instance gate of one process: a semaphore per instance.</summary>
public sealed class ProcessInstanceGate : IInstanceGate
{
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _gates = new();

    public async ValueTask<IAsyncDisposable> EnterAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        var gate = _gates.GetOrAdd(instanceId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Held(gate);
    }

    private sealed class Held(SemaphoreSlim gate) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }

            return ValueTask.CompletedTask;
        }
    }
}
