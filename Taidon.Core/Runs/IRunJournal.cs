using Taidon.Core.Instances;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

/// <summary>What a run leaves in the control plane besides the instance's state: layers it took, the layer it used, facts it learned, its history entry.</summary>
/// <param name="Instance">The instance, in the state the run left it.</param>
/// <param name="LayersTaken">New layers (a layer already known is left as it is).</param>
/// <param name="Restored">The layer the run restored (its hits and last use move), or null.</param>
/// <param name="NoOps">Statements seen to change nothing: (state before, the key they would have led to).</param>
/// <param name="History">The run as the student's history shows it; null for a reset that ran no statement of theirs.</param>
/// <param name="HistoryKept">When set, the owner's history is trimmed to this many runs now (older ones go); null: not this time.</param>
/// <param name="At">When the run ended.</param>
public sealed record RunRecord(
    Instance Instance,
    IReadOnlyList<LayerUse> LayersTaken,
    ChainKey? Restored,
    IReadOnlyList<(ChainKey Before, ChainKey After)> NoOps,
    RunHistoryEntry? History,
    int? HistoryKept,
    DateTimeOffset At);

/// <summary>Where runs are written down and read back (the port; the control-plane database implements it).</summary>
public interface IRunJournal
{
    /// <summary>Records a run at once (one transaction): the instance, the cache's accounts, the facts, the history.</summary>
    Task RecordAsync(RunRecord run, CancellationToken cancellationToken);

    /// <summary>Of the pairs (state before, key after), those known to change nothing.</summary>
    Task<IReadOnlyList<(ChainKey Before, ChainKey After)>> NoOpsFromAsync(IReadOnlyCollection<ChainKey> before, CancellationToken cancellationToken);

    /// <summary>The owner's latest runs, newest first.</summary>
    Task<IReadOnlyList<RunHistoryEntry>> HistoryAsync(string ownerId, int take, CancellationToken cancellationToken);

    /// <summary>Every run since a moment, as the admin figures count them.</summary>
    Task<IReadOnlyList<RunTally>> TallySinceAsync(DateTimeOffset since, CancellationToken cancellationToken);
}
