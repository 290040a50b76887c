using System.Collections.Concurrent;
using Taidon.Core.Runs;

namespace Taidon.Infrastructure.Runs;

/// <summary>
/// The runs in progress in this process. Alone it is the registry of a single replica (the embedded
/// runtime); <see cref="ControlPlaneActiveRuns"/> adds the other replicas' runs to it.
/// </summary>
public sealed class ProcessActiveRuns(TimeProvider clock, Action<ActiveRun>? ended = null) : IActiveRuns
{
    private readonly ConcurrentDictionary<Guid, ActiveRun> _runs = new();

    public ActiveRun Begin(string ownerId, Guid? id, CancellationToken aborted)
    {
        var run = new ActiveRun(id ?? Guid.CreateVersion7(clock.GetUtcNow()), ownerId, clock.GetUtcNow(), aborted, Ended);
        if (!_runs.TryAdd(run.Id, run))
        {
            run.Dispose();
            throw new ArgumentException($"A run with id {run.Id} is already in progress; give each run its own id.", nameof(id));
        }

        return run;
    }

    /// <summary>The run with this id in this process, whoever owns it (a stop already checked against its owner).</summary>
    public ActiveRun? WithId(Guid id) => _runs.GetValueOrDefault(id);

    public IReadOnlyCollection<ActiveRun> Here => [.. _runs.Values];

    public ActiveRun? Find(string ownerId, Guid id) => WithId(id) is { } run && run.OwnerId == ownerId ? run : null;

    public IReadOnlyList<ActiveRun> OfOwner(string ownerId) => [.. _runs.Values.Where(r => r.OwnerId == ownerId).OrderBy(r => r.StartedAt)];

    public Task<RunInProgress?> FindAsync(string ownerId, Guid id, CancellationToken cancellationToken) =>
        Task.FromResult(Find(ownerId, id) is { } run ? RunInProgress.Of(run) : null);

    public Task<IReadOnlyList<RunInProgress>> OfOwnerAsync(string ownerId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RunInProgress>>([.. OfOwner(ownerId).Select(RunInProgress.Of)]);

    public Task<RunInProgress?> StopAsync(string ownerId, Guid id, CancellationToken cancellationToken)
    {
        var run = Find(ownerId, id);
        run?.Stop();
        return Task.FromResult(run is null ? null : RunInProgress.Of(run));
    }

    private void Ended(ActiveRun run)
    {
        if (_runs.TryRemove(new KeyValuePair<Guid, ActiveRun>(run.Id, run)))
        {
            ended?.Invoke(run);
        }
    }
}
