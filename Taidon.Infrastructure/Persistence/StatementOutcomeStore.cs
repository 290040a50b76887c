using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.Persistence;

/// <summary>Recorded statement outcomes in the control plane's <c>statement_outcomes</c> table.</summary>
public sealed class StatementOutcomeStore(IDbContextFactory<ControlPlaneDbContext> contexts, TimeProvider clock) : IStatementOutcomeStore
{
    public async Task<IReadOnlyDictionary<ChainKey, RecordedOutcome>> FindAsync(IReadOnlyCollection<ChainKey> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return new Dictionary<ChainKey, RecordedOutcome>();
        }

        var wanted = keys.Select(k => k.ToString()).Distinct().ToList();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var found = await db.StatementOutcomes.AsNoTracking().Where(o => wanted.Contains(o.AfterKey)).ToListAsync(cancellationToken);
        return found.ToDictionary(
            o => ChainKey.Parse(o.AfterKey),
            o => new RecordedOutcome(o.CommandTag, o.RowsAffected, JsonSerializer.Deserialize<string[]>(o.Notices) ?? [],
                o.DurationMicroseconds is { } micros ? TimeSpan.FromMicroseconds(micros) : null));
    }

    public async Task RecordAsync(IReadOnlyCollection<KeyValuePair<ChainKey, RecordedOutcome>> outcomes, CancellationToken cancellationToken)
    {
        if (outcomes.Count == 0)
        {
            return;
        }

        // One statement for the lot; a key another run recorded meanwhile keeps its outcome.
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync(
            """
            INSERT INTO statement_outcomes ("AfterKey", "CommandTag", "RowsAffected", "Notices", "DurationMicroseconds", "RecordedAt")
            SELECT k, t, r, n, d, @at FROM unnest(@keys, @tags, @rows, @notices, @durations) AS o(k, t, r, n, d)
            ON CONFLICT ("AfterKey") DO NOTHING
            """,
            [
                new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = outcomes.Select(o => o.Key.ToString()).ToArray() },
                new NpgsqlParameter("tags", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = outcomes.Select(o => Clip(o.Value.CommandTag)).ToArray() },
                new NpgsqlParameter("rows", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = outcomes.Select(o => o.Value.RowsAffected).ToArray() },
                new NpgsqlParameter("notices", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = outcomes.Select(o => JsonSerializer.Serialize(o.Value.Notices)).ToArray() },
                new NpgsqlParameter("durations", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = outcomes.Select(o => (long?)o.Value.Duration?.TotalMicroseconds).ToArray() },
                new NpgsqlParameter("at", clock.GetUtcNow()),
            ],
            cancellationToken);
    }

    /// <summary>Removes outcomes recorded before <paramref name="before"/>; their statements show plain "cached" afterwards.</summary>
    public async Task<int> ForgetAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.StatementOutcomes.Where(o => o.RecordedAt < before).ExecuteDeleteAsync(cancellationToken);
    }

    private static string? Clip(string? tag) => tag is { Length: > 64 } ? tag[..64] : tag;
}
