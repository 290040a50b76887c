using System.Collections.Concurrent;
using Taidon.Core.Runs;

namespace Taidon.Infrastructure.Runs;

/// <summary>The runs in progress in this process: with several replicas, sticky sessions bring a student back to it.</summary>
public sealed class ProcessActiveRuns(TimeProvider clock) : IActiveRuns
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
