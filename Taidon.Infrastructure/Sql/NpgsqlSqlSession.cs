using System.Diagnostics;
using Npgsql;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.Sql;

public sealed class NpgsqlSqlSessionFactory : ISqlSessionFactory
{
    public async Task<ISqlSession> OpenAsync(InstanceConnection connection, CancellationToken cancellationToken)
    {
        var npgsql = new NpgsqlConnection(ConnectionString(connection, "taidon-runner"));
        await npgsql.OpenAsync(cancellationToken);
        return new NpgsqlSqlSession(npgsql);
    }

    /// <summary>The student's connection string for an instance (no pooling: a session is one connection).</summary>
    public static string ConnectionString(InstanceConnection connection, string applicationName) => new NpgsqlConnectionStringBuilder
    {
        Host = connection.Host,
        Port = connection.Port,
        Database = connection.Database,
        Username = connection.User,
        Password = connection.Password,
        Pooling = false,
        ApplicationName = applicationName,
        // Cancelling a statement is the runner's job (timeouts and Stop), not the driver's.
        CommandTimeout = 0,
    }.ConnectionString;
}

/// <summary>
/// Runs a student's statements over one connection, as the student. Values come back in PostgreSQL's
/// text form; results are capped; whether a statement changed anything is seen from the next
/// transaction id before and after it (the WAL position is not asked: checkpoints and other background work move it).
/// </summary>
public sealed class NpgsqlSqlSession : ISqlSession
{
    private static readonly string[] QueryStarts = ["select", "values", "table", "show", "explain", "fetch"];

    private readonly NpgsqlConnection _connection;
    private readonly List<string> _notices = [];
    private readonly List<string> _noticeStates = [];
    private bool _disposed;

    // The probe after one statement is the probe before the next: one round trip per statement, not two.
    private string? _lastProbe;

    internal NpgsqlSqlSession(NpgsqlConnection connection)
    {
        _connection = connection;
        _connection.Notice += (_, e) =>
        {
            _notices.Add($"{e.Notice.Severity}: {e.Notice.MessageText}");
            _noticeStates.Add(e.Notice.SqlState);
        };
    }

    public async Task<StatementOutcome> ExecuteAsync(SqlStatement statement, ResultLimits limits, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _notices.Clear();
        var watch = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The server's statement_timeout can be changed by the student; this one cannot.
        deadline.CancelAfter(timeout + TimeSpan.FromSeconds(2));
        try
        {
            var before = _lastProbe ?? await ProbeAsync(cancellationToken);
            _lastProbe = null;
            var (tag, rows, results) = statement.Kind == StatementKind.CopyFromStdin
                ? await CopyInAsync(statement, deadline.Token)
                : await QueryAsync(statement, limits, deadline.Token);

            // The statement finished: what it did is reported even when a Stop arrives now.
            var after = await ProbeAsync(CancellationToken.None);
            _lastProbe = after;
            var changed = before != after || statement.Kind != StatementKind.Other || MentionsSequence(statement);
            return new StatementOutcome(statement.Index, StatementStatus.Executed, tag, rows, results, [.. _notices], watch.Elapsed, null, changed);
        }
        catch (PostgresException e)
        {
            return Failed(statement, watch.Elapsed, e.SqlState, e.MessageText, e.Detail, e.Hint, e.Position);
        }
        catch (NpgsqlException e) when (e is not PostgresException && !_connection.FullState.HasFlag(System.Data.ConnectionState.Open))
        {
            return Failed(statement, watch.Elapsed, "08006", "The connection to your instance was lost while this statement ran (the instance stopped).", null,
                "Run again: the instance is restarted and brought back to the state before this statement.", 0);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return StatementOutcome.Stopped(statement, watch.Elapsed) with { Notices = [.. _notices] };
        }
        catch (OperationCanceledException)
        {
            return Failed(statement, watch.Elapsed, "57014", $"The statement ran longer than {timeout.TotalSeconds:0} s and was stopped.", null,
                "Make it faster (an index, a smaller result), or ask for a longer statement timeout.", 0);
        }
    }

    public async Task<bool> RollbackOpenTransactionAsync(CancellationToken cancellationToken)
    {
        if (!_connection.FullState.HasFlag(System.Data.ConnectionState.Open))
        {
            // The connection is gone, and with it any transaction: the state is not known.
            return true;
        }

        // ROLLBACK outside a block only warns (25P01): that warning says nothing was open.
        _lastProbe = null;
        _notices.Clear();
        _noticeStates.Clear();
        await using var rollback = new NpgsqlCommand("ROLLBACK", _connection);
        await rollback.ExecuteNonQueryAsync(cancellationToken);
        return !_noticeStates.Contains("25P01");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            await _connection.DisposeAsync();
        }
    }

    private async Task<(string? Tag, long? Rows, IReadOnlyList<ResultSet> Results)> QueryAsync(SqlStatement statement, ResultLimits limits, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(statement.Text, _connection) { AllResultTypesAreUnknown = true };
        await using var registration = cancellationToken.Register(command.Cancel);
        var results = new List<ResultSet>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        // NpgsqlBatch would give the statement's type and row count without this, but cannot ask for text results.
#pragma warning disable CS0618
        var statementCommand = reader.Statements[0];
#pragma warning restore CS0618
        var cancelledForCap = false;
        do
        {
            if (reader.FieldCount == 0)
            {
                continue;
            }

            var columns = Enumerable.Range(0, reader.FieldCount).Select(i => new ResultColumn(reader.GetName(i), reader.GetDataTypeName(i))).ToList();
            var rows = new List<string?[]>();
            long bytes = 0;
            var truncated = false;
            while (await reader.ReadAsync(cancellationToken))
            {
                if (rows.Count >= limits.MaxRows || bytes >= limits.MaxBytes)
                {
                    truncated = true;
                    break;
                }

                var row = new string?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetString(i);
                    bytes += (row[i]?.Length ?? 0) * 2L + 8;
                }

                rows.Add(row);
            }

            results.Add(new ResultSet(columns, rows, truncated));
            if (truncated && IsQuery(statement))
            {
                // A plain query can be stopped without losing anything: the rest is never sent.
                command.Cancel();
                cancelledForCap = true;
                break;
            }
        }
        while (await reader.NextResultAsync(cancellationToken));

        if (cancelledForCap)
        {
            try
            {
                await reader.DisposeAsync();
            }
            catch (PostgresException e) when (e.SqlState == "57014")
            {
                // The cancel arrived: the query stopped where the cap was reached.
            }

            return (TagOf(statement, StatementType.Select, results[0].Rows.Count), results[0].Rows.Count, results);
        }

        await reader.DisposeAsync();
        var type = statementCommand.StatementType;
        var affected = type is StatementType.Insert or StatementType.Update or StatementType.Delete or StatementType.Merge or StatementType.Copy
            ? (long)statementCommand.Rows
            : (long?)null;
        return (TagOf(statement, type, affected ?? results.FirstOrDefault()?.Rows.Count), affected ?? results.FirstOrDefault()?.Rows.Count, results);
    }

    private async Task<(string? Tag, long? Rows, IReadOnlyList<ResultSet> Results)> CopyInAsync(SqlStatement statement, CancellationToken cancellationToken)
    {
        var text = statement.Text.TrimEnd().TrimEnd(';');
        await using (var writer = await _connection.BeginTextImportAsync(text, cancellationToken))
        {
            await writer.WriteAsync(statement.CopyData.AsMemory(), cancellationToken);
        }

        var lines = statement.CopyData?.Count(c => c == '\n') ?? 0;
        return ($"COPY {lines}", lines, []);
    }

    /// <summary>The next transaction id and the one assigned, if any: both stay put when a statement changed nothing.</summary>
    private async Task<string> ProbeAsync(CancellationToken cancellationToken)
    {
        await using var probe = new NpgsqlCommand(
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text || '/' || coalesce(pg_current_xact_id_if_assigned()::text, '')",
            _connection);
        try
        {
            return (string)(await probe.ExecuteScalarAsync(cancellationToken))!;
        }
        catch (PostgresException e) when (e.SqlState == "25P02")
        {
            // Inside an aborted transaction nothing runs, and nothing changes.
            return "aborted";
        }
    }

    private StatementOutcome Failed(SqlStatement statement, TimeSpan duration, string sqlState, string message, string? detail, string? hint, int position) =>
        new(statement.Index, StatementStatus.Error, null, null, [], [.. _notices], duration,
            new RunError(sqlState, message, detail, hint, statement.Span.File, statement.Locate(position > 0 ? position : 1)), false);

    private static bool IsQuery(SqlStatement statement) =>
        QueryStarts.Any(start => statement.Normalized.StartsWith(start, StringComparison.Ordinal));

    /// <summary>nextval and setval change a sequence without a transaction id (and, within its cache, without WAL).</summary>
    private static bool MentionsSequence(SqlStatement statement) =>
        statement.Normalized.Contains("nextval(", StringComparison.Ordinal) || statement.Normalized.Contains("setval(", StringComparison.Ordinal);

    private static string TagOf(SqlStatement statement, StatementType type, long? rows) => type switch
    {
        StatementType.Select => $"SELECT {rows ?? 0}",
        StatementType.Insert => $"INSERT 0 {rows ?? 0}",
        StatementType.Update => $"UPDATE {rows ?? 0}",
        StatementType.Delete => $"DELETE {rows ?? 0}",
        StatementType.Merge => $"MERGE {rows ?? 0}",
        StatementType.Copy => $"COPY {rows ?? 0}",
        StatementType.Move => $"MOVE {rows ?? 0}",
        StatementType.Fetch => $"FETCH {rows ?? 0}",
        _ => string.Join(' ', statement.Normalized.Split(' ', '(', ';').Where(w => w.Length > 0).Take(2)).ToUpperInvariant(),
    };
}
