using System.ComponentModel.DataAnnotations;

namespace Taidon.Core.Runs;

/// <summary>
/// Settings of <c>Taidon:Admission</c>: how many runs the installation works on at once, and how many
/// may wait. A run past the first waits its turn with its place shown; past both, it is refused with
/// "busy, try again in a moment" (503 and Retry-After), never an error.
/// </summary>
public sealed class AdmissionOptions
{
    public const string SectionName = "Taidon:Admission";

    /// <summary>
    /// Runs at once; 0 picks five times the machine's cores. A run spends much of its time waiting (a
    /// PostgreSQL start, a btrfs commit, the wire), so twice the cores left a loaded machine 14 % idle while
    /// runs queued: at 300 students on 2 cores, 4 at once gave a run p95 of 2.2 s, 6 gave 1.7 s, 10 gave
    /// 1.1 s, 16 gave 1.8 s (docs/benchmarks.md).
    /// </summary>
    [Range(0, 10_000, ErrorMessage = "Taidon:Admission:ConcurrentRuns must be between 0 and 10000.")]
    public int ConcurrentRuns { get; set; }

    /// <summary>Runs that may wait for a turn; more are refused as busy.</summary>
    [Range(0, 100_000, ErrorMessage = "Taidon:Admission:QueuedRuns must be between 0 and 100000.")]
    public int QueuedRuns { get; set; } = 2000;

    /// <summary>The longest a run waits for its turn before it is refused as busy.</summary>
    [Range(1, 3600, ErrorMessage = "Taidon:Admission:MaxWaitSeconds must be between 1 and 3600.")]
    public int MaxWaitSeconds { get; set; } = 60;

    public int EffectiveConcurrentRuns => ConcurrentRuns > 0 ? ConcurrentRuns : 5 * Environment.ProcessorCount;
}

/// <summary>
/// The admission policy of runs (the port; one process keeps it in memory today, several replicas will
/// share it through the control plane): a bounded number at once, a bounded queue, first come first served.
/// </summary>
public interface IRunAdmission
{
    /// <summary>
    /// Waits for a turn, reporting the place in the queue (1 = next) while it waits. The turn is held
    /// until the returned handle is disposed. Throws <see cref="Quotas.InstallationAtCapacityException"/>
    /// when the queue is full or the wait too long.
    /// </summary>
    Task<IAsyncDisposable> EnterAsync(Action<int>? place, CancellationToken cancellationToken);

    /// <summary>Runs working and waiting now.</summary>
    (int Running, int Waiting) Load { get; }
}
