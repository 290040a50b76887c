using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

/// <summary>
/// What a state-changing statement did, kept so that a run which restores its effect can still show it,
/// and how long it took (what replaying it costs, for the planner).
/// </summary>
public sealed record RecordedOutcome(string? CommandTag, long? RowsAffected, IReadOnlyList<string> Notices, TimeSpan? Duration = null);

/// <summary>
/// The outcomes of state-changing statements, by the chain key each one leads to. A key names the state
/// before the statement and the statement itself, so the outcome it records is the one a replay would give.
/// </summary>
public interface IStatementOutcomeStore
{
    Task<IReadOnlyDictionary<ChainKey, RecordedOutcome>> FindAsync(IReadOnlyCollection<ChainKey> keys, CancellationToken cancellationToken);

    /// <summary>Keeps outcomes not kept yet (a key already recorded keeps its first outcome).</summary>
    Task RecordAsync(IReadOnlyCollection<KeyValuePair<ChainKey, RecordedOutcome>> outcomes, CancellationToken cancellationToken);

    /// <summary>Forgets outcomes recorded before a moment; returns how many.</summary>
    Task<int> ForgetAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
