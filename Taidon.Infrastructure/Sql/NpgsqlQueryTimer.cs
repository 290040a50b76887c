using Npgsql;
using Taidon.Core.Instances;
using Taidon.Core.Runs;

namespace Taidon.Infrastructure.Sql;

/// <summary>Times queries with EXPLAIN (ANALYZE, FORMAT JSON), each time in a read-only transaction that is rolled back.</summary>
public sealed class NpgsqlQueryTimer : IQueryTimer
{
    public async Task<IReadOnlyList<string>> ExplainAsync(InstanceConnection connection, string query, int repetitions, TimeSpan timeout, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var plans = new List<string>();
        await using var owned = await OneOffConnection.OpenAsync(NpgsqlSqlSessionFactory.ConnectionString(connection, "taidon-benchmark"), cancellationToken);
        var npgsql = owned.Connection;
        for (var i = 0; i < repetitions; i++)
        {
            progress?.Report(i + 1);
            await using (var begin = new NpgsqlCommand("BEGIN READ ONLY", npgsql))
            {
                await begin.ExecuteNonQueryAsync(cancellationToken);
            }

            try
            {
                // A query that would change anything, even a sequence, fails in a read-only transaction.
                await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + query, npgsql) { CommandTimeout = (int)Math.Ceiling(timeout.TotalSeconds) };
                plans.Add((string)(await explain.ExecuteScalarAsync(cancellationToken))!);
            }
            catch (PostgresException e)
            {
                throw new QueryTimingException(e.SqlState, e.MessageText, e);
            }
            finally
            {
                await using var rollback = new NpgsqlCommand("ROLLBACK", npgsql);
                await rollback.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }

        return plans;
    }
}
