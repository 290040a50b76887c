using Taidon.Core.Instances;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

/// <summary>A connection to an instance as its student, which runs statements one at a time.</summary>
public interface ISqlSession : IAsyncDisposable
{
    /// <summary>
    /// Runs one statement, taking what it returns out of the run's <paramref name="budget"/>; a PostgreSQL
    /// error is an outcome, not an exception. <see cref="StatementOutcome.ChangedState"/> is false only when
    /// the statement provably left the database as it was: for a statement that finished, no transaction id,
    /// no sequence moved and the session changed nothing a layer cannot keep; for one that failed, an error
    /// raised before anything ran (a syntax error, an unknown table or column).
    /// </summary>
    Task<StatementOutcome> ExecuteAsync(SqlStatement statement, ResultBudget budget, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// From now on, also watch the session's settings (what a function or DO body could change with SET).
    /// Before the chain can run code of the student's, only SET and set_config change them, which the
    /// runner sees in the text; watching them costs most of the probe.
    /// </summary>
    void WatchSettings();

    /// <summary>
    /// Makes a new session on a state other than the base one what the one session of a clean replay would
    /// be there, beyond the SET statements the runner applies again: currval of every sequence used.
    /// </summary>
    Task ResumeAsync(CancellationToken cancellationToken);

    /// <summary>Rolls back a transaction block the statements left open; true when there was one.</summary>
    Task<bool> RollbackOpenTransactionAsync(CancellationToken cancellationToken);
}

public interface ISqlSessionFactory
{
    Task<ISqlSession> OpenAsync(InstanceConnection connection, CancellationToken cancellationToken);
}
