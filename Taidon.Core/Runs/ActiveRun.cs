namespace Taidon.Core.Runs;

/// <summary>A run in progress: where it is, and the switch that stops it. Its owner alone can see or stop it.</summary>
public sealed class ActiveRun : IProgress<RunProgress>, IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Action<ActiveRun> _ended;

    public ActiveRun(Guid id, string ownerId, DateTimeOffset startedAt, CancellationToken aborted, Action<ActiveRun> ended)
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
/// The runs in progress, by id, so that their owner can follow and stop them from another request (the
/// API) or another component (the workspace).
/// </summary>
/// <remarks>
/// In one process the registry is a dictionary; with several replicas a run lives in the process that
/// executes it, and a registry behind this port must say where (or sticky sessions bring the student back).
/// </remarks>
public interface IActiveRuns
{
    /// <summary>Registers a run; dispose the result when it ends. A null id gets a new one; an id in progress is refused.</summary>
    ActiveRun Begin(string ownerId, Guid? id, CancellationToken aborted);

    /// <summary>The owner's run with this id, or null (another account's run is never found).</summary>
    ActiveRun? Find(string ownerId, Guid id);

    /// <summary>The owner's runs in progress, oldest first.</summary>
    IReadOnlyList<ActiveRun> OfOwner(string ownerId);
}
