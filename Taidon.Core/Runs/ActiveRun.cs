namespace Taidon.Core.Runs;

/// <summary>A run in progress: where it is, and the switch that stops it. Its owner alone can see or stop it.</summary>
public sealed class ActiveRun : IProgress<RunProgress>, IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Action<ActiveRun> _ended;
    private int _disposed;

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

    /// <summary>Stops the run; one that has ended already is left as it is.</summary>
    public void Stop()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Ended meanwhile.
        }
    }

    /// <summary>Ends the run (once; a second call does nothing).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _ended(this);
        _stop.Dispose();
    }
}

/// <summary>What is known of a run in progress, in this process or in another replica (its progress as last reported there).</summary>
public sealed record RunInProgress(Guid Id, string OwnerId, DateTimeOffset StartedAt, RunProgress? Progress, bool StopRequested)
{
    public static RunInProgress Of(ActiveRun run) => new(run.Id, run.OwnerId, run.StartedAt, run.Progress, run.StopRequested);
}

/// <summary>
/// The runs in progress, by id, so that their owner can follow and stop them from another request (the
/// API) or another component (the workspace).
/// </summary>
/// <remarks>
/// A run lives in the process that executes it. With several replicas the registry also says what runs
/// on the others, and a stop asked of one reaches the replica where the run is.
/// </remarks>
public interface IActiveRuns
{
    /// <summary>
    /// Registers a run in this process (at once, before any await: a second click meanwhile finds it); dispose
    /// the result when it ends. A null id gets a new one; an id in progress here is refused.
    /// </summary>
    ActiveRun Begin(string ownerId, Guid? id, CancellationToken aborted);

    /// <summary>The runs in progress in this process (a replica that stops waits for them).</summary>
    IReadOnlyCollection<ActiveRun> Here { get; }

    /// <summary>The owner's run with this id, wherever it runs, or null (another account's run is never found).</summary>
    Task<RunInProgress?> FindAsync(string ownerId, Guid id, CancellationToken cancellationToken);

    /// <summary>The owner's runs in progress, wherever they run, oldest first.</summary>
    Task<IReadOnlyList<RunInProgress>> OfOwnerAsync(string ownerId, CancellationToken cancellationToken);

    /// <summary>Asks the owner's run to stop, wherever it runs; what is known of it, or null when the owner has no such run.</summary>
    Task<RunInProgress?> StopAsync(string ownerId, Guid id, CancellationToken cancellationToken);
}
