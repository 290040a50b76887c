using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Tests.Support;

/// <summary>The outcome store's contract in memory; the control-plane table behind it is tested through the API.</summary>
public sealed class OutcomesInMemory : IStatementOutcomeStore
{
    private readonly Dictionary<ChainKey, RecordedOutcome> _outcomes = [];

    public Task<IReadOnlyDictionary<ChainKey, RecordedOutcome>> FindAsync(IReadOnlyCollection<ChainKey> keys, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<ChainKey, RecordedOutcome>>(keys.Where(_outcomes.ContainsKey).Distinct().ToDictionary(k => k, k => _outcomes[k]));

    public Task RecordAsync(IReadOnlyCollection<KeyValuePair<ChainKey, RecordedOutcome>> outcomes, CancellationToken cancellationToken)
    {
        foreach (var (key, outcome) in outcomes)
        {
            _outcomes.TryAdd(key, outcome);
        }

        return Task.CompletedTask;
    }

    public Task<int> ForgetAsync(DateTimeOffset before, CancellationToken cancellationToken) => Task.FromResult(0);
}
