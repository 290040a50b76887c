using Taidon.Core.Quotas;
using Taidon.Core.Runs;

namespace Taidon.Infrastructure.Runs;

/// <summary>The admission policy in this process: a turn counter and a first-in, first-out queue of waiting runs.</summary>
public sealed class ProcessRunAdmission(AdmissionOptions options, TimeProvider clock) : IRunAdmission
{
    private readonly object _lock = new();
    private readonly LinkedList<Waiter> _queue = new();
    private int _running;

    public (int Running, int Waiting) Load
    {
        get
        {
            lock (_lock)
            {
                return (_running, _queue.Count);
            }
        }
    }

    public async Task<IAsyncDisposable> EnterAsync(Action<int>? place, CancellationToken cancellationToken)
    {
        Waiter waiter;
        LinkedListNode<Waiter> node;
        lock (_lock)
        {
            if (_running < options.EffectiveConcurrentRuns && _queue.Count == 0)
            {
                _running++;
                return new Turn(this);
            }

            if (_queue.Count >= options.QueuedRuns)
            {
                throw Busy();
            }

            waiter = new Waiter(place);
            node = _queue.AddLast(waiter);
            waiter.Report(_queue.Count);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.MaxWaitSeconds), clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await waiter.Turn.Task.WaitAsync(linked.Token);
            return new Turn(this);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (waiter.Turn.Task.IsCompletedSuccessfully)
                {
                    // The turn came as the wait ended: pass it on.
                    Release();
                }
                else
                {
                    _queue.Remove(node);
                    ReportPlaces();
                }
            }

            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw Busy();
        }
    }

    private InstallationAtCapacityException Busy() => new(
        "runs at once in this installation",
        "The server is busy: every place in the queue of runs is taken. Your script is saved; run it again in a moment.",
        TimeSpan.FromSeconds(Math.Max(1, Math.Min(30, _queue.Count / Math.Max(1, options.EffectiveConcurrentRuns)))));

    /// <summary>A turn ends: the next waiting run takes it (called under the lock).</summary>
    private void Release()
    {
        if (_queue.First is { } next)
        {
            _queue.RemoveFirst();
            next.Value.Turn.TrySetResult();
            ReportPlaces();
        }
        else
        {
            _running--;
        }
    }

    private void ReportPlaces()
    {
        var place = 1;
        foreach (var waiting in _queue)
        {
            waiting.Report(place++);
        }
    }

    private sealed class Waiter(Action<int>? place)
    {
        public TaskCompletionSource Turn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Report(int at) => place?.Invoke(at);
    }

    private sealed class Turn(ProcessRunAdmission admission) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                lock (admission._lock)
                {
                    admission.Release();
                }
            }

            return ValueTask.CompletedTask;
        }
    }
}
