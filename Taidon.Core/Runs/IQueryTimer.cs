using Taidon.Core.Instances;

namespace Taidon.Core.Runs;

/// <summary>A query could not be timed: its error, as PostgreSQL gave it.</summary>
public sealed class QueryTimingException(string sqlState, string message, Exception? inner = null) : Exception(message, inner)
{
    public string SqlState { get; } = sqlState;
}

/// <summary>Times queries on an instance with EXPLAIN (ANALYZE) (the port; the Npgsql adapter implements it).</summary>
public interface IQueryTimer
{
    /// <summary>
    /// Times <paramref name="query"/> <paramref name="repetitions"/> times as the student, each time in a
    /// read-only transaction that is rolled back; returns the plans in JSON. Throws
    /// <see cref="QueryTimingException"/> when the query fails.
    /// </summary>
    Task<IReadOnlyList<string>> ExplainAsync(InstanceConnection connection, string query, int repetitions, TimeSpan timeout, IProgress<int>? progress, CancellationToken cancellationToken);
}
