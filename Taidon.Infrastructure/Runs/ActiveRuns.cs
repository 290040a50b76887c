using System.Collections.Concurrent;
using Taidon.Core.Runs;

namespace Taidon.Infrastructure.Runs;

/// <summary>A run in progress: where it is, and the switch that stops it. Its owner alone can see or stop it.</summary>
public sealed class ActiveRun : IProgress<RunProgress>, IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Action<ActiveRun> _ended;

    internal ActiveRun(Guid id, string ownerId, DateTimeOffset startedAt, CancellationToken aborted, Action<ActiveRun> ended)
    {
        Id = id;
        OwnerId = ownerId;
        StartedAt = startedAt;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        _ended = ended;
    }

    public Guid Id { get; }

    public string OwnerId { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>The latest progress report (null before the first).</summary>
    public RunProgress? Progress { get; private set; }

    public bool StopRequested => _stop.IsCancellationRequested;

    /// <summary>Cancelled when the owner stops the run (or the caller that started it goes away).</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>Raised on every progress report (from the run's thread).</summary>
    public event Action<RunProgress>? Changed;

    public void Report(RunProgress value)
    {
        Progress = value;
        Changed?.Invoke(value);
    }

    public void Stop() => _stop.Cancel();

    public void Dispose()
    {
        _ended(this);
        _stop.Dispose();
    }
}

/// <summary>
/// The runs in progress in this process, by id, so that their owner can follow and stop them from
/// another request (the API) or another component (the workspace). Runs live in the process that
/// executes them: with several replicas, sticky sessions bring a student back to it.
/// </summary>
public sealed class ActiveRuns(TimeProvider clock)
{
    private readonly ConcurrentDictionary<Guid, ActiveRun> _runs = new();

    /// <summary>Registers a run; dispose the result when it ends. A null id gets a new one.</summary>
    public ActiveRun Begin(string ownerId, Guid? id, CancellationToken aborted)
    {
        var run = new ActiveRun(id ?? Guid.CreateVersion7(clock.GetUtcNow()), ownerId, clock.GetUtcNow(), aborted, r => _runs.TryRemove(new KeyValuePair<Guid, ActiveRun>(r.Id, r)));
        if (!_runs.TryAdd(run.Id, run))
        {
            run.Dispose();
            throw new ArgumentException($"A run with id {run.Id} is already in progress; give each run its own id.", nameof(id));
        }

        return run;
    }

    public ActiveRun? Find(string ownerId, Guid id) =>
        _runs.TryGetValue(id, out var run) && run.OwnerId == ownerId ? run : null;

    public IReadOnlyList<ActiveRun> OfOwner(string ownerId) => [.. _runs.Values.Where(r => r.OwnerId == ownerId).OrderBy(r => r.StartedAt)];
}
