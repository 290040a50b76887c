using Taidon.Core.Instances;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

/// <summary>A connection to an instance as its student, which runs statements one at a time.</summary>
public interface ISqlSession : IAsyncDisposable
{
    /// <summary>
    /// Runs one statement; a PostgreSQL error is an outcome, not an exception. <see cref="StatementOutcome.ChangedState"/>
    /// is false only when the statement provably left the database as it was (no transaction id, no WAL).
    /// </summary>
    Task<StatementOutcome> ExecuteAsync(SqlStatement statement, ResultLimits limits, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Rolls back a transaction block the statements left open; true when there was one.</summary>
    Task<bool> RollbackOpenTransactionAsync(CancellationToken cancellationToken);
}

public interface ISqlSessionFactory
{
    Task<ISqlSession> OpenAsync(InstanceConnection connection, CancellationToken cancellationToken);
}
