using System.Diagnostics;
using System.Text;
using Npgsql;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.Sql;

public sealed class NpgsqlSqlSessionFactory : ISqlSessionFactory
{
    public async Task<ISqlSession> OpenAsync(InstanceConnection connection, CancellationToken cancellationToken)
    {
        // Its own data source (OneOffConnection): a rewind to a standby server gives the instance a new port.
        var session = await OneOffConnection.OpenAsync(ConnectionString(connection, "taidon-runner"), cancellationToken);
        return new NpgsqlSqlSession(session);
    }

    /// <summary>
    /// The connection string for the platform's own queries on an instance over the student's login (the
    /// schema, a size): the session's settings come from the startup packet, which wins over any the student
    /// gave their role or database, so their search_path cannot shadow pg_catalog, and every query is
    /// read-only and stopped after a few seconds.
    /// </summary>
    public static string PlatformConnectionString(InstanceConnection connection, string applicationName) => new NpgsqlConnectionStringBuilder(ConnectionString(connection, applicationName))
    {
        Options = "-c search_path=pg_catalog,pg_temp -c statement_timeout=5000 -c lock_timeout=2000 -c default_transaction_read_only=on -c work_mem=4MB -c client_min_messages=error",
        Timeout = 10,
        CommandTimeout = 10,
    }.ConnectionString;

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
/// text form, read column by column off the wire so that no value past the bounds is ever held whole; results
/// and notices are bounded by the run's <see cref="ResultBudget"/>. Whether a statement changed anything is
/// seen from a probe before and after it: the next transaction id, the sequences' values, inside a
/// transaction block that already has its id the rows its statements wrote (catalogs included, so DDL
/// counts too), and a digest of the session state a layer does not keep (the WAL position is not asked: checkpoints and other background
/// work move it). The probe names everything in pg_catalog, so no object of the student's can stand in.
/// </summary>
public sealed class NpgsqlSqlSession : ISqlSession
{
    private static readonly string[] QueryStarts = ["select", "values", "table", "show", "explain", "fetch"];
    private static readonly string[] MaintenanceStarts = ["vacuum", "analyze", "analyse", "cluster", "reindex", "checkpoint"];

    // Operators are named too: a student's search_path may put a schema with their own "=" before pg_catalog.
    // {0} is where the session's settings go when they are watched (reading pg_settings is most of the cost).
    private const string ProbeTemplate = """
        SELECT pg_catalog.concat_ws('/',
                 pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot()),
                 pg_catalog.pg_current_xact_id_if_assigned(),
                 CASE WHEN pg_catalog.pg_current_xact_id_if_assigned() IS NULL THEN 0
                      ELSE (SELECT pg_catalog.sum(t.n_tup_ins OPERATOR(pg_catalog.+) t.n_tup_upd OPERATOR(pg_catalog.+) t.n_tup_del)
                              FROM pg_catalog.pg_stat_xact_all_tables t) END,
                 (SELECT pg_catalog.md5(pg_catalog.string_agg(pg_catalog.concat(s.schemaname, '.', s.sequencename, '=', s.last_value), ',' ORDER BY s.schemaname, s.sequencename))
                    FROM pg_catalog.pg_sequences s)),
               pg_catalog.md5(pg_catalog.concat_ws('|',
                 {0},
                 CASE WHEN pg_catalog.pg_my_temp_schema() OPERATOR(pg_catalog.=) 0 THEN 0
                      ELSE (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema()) END,
                 (SELECT pg_catalog.count(*) FROM pg_catalog.pg_prepared_statements),
                 (SELECT pg_catalog.count(*) FROM pg_catalog.pg_cursors),
                 (SELECT pg_catalog.count(*) FROM pg_catalog.pg_locks l
                    WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()),
                 (SELECT pg_catalog.count(*) FROM pg_catalog.pg_listening_channels()),
                 (SELECT pg_catalog.md5(pg_catalog.string_agg(pg_catalog.concat(r.setdatabase, '/', r.setrole, '/', r.setconfig), ',' ORDER BY r.setdatabase, r.setrole))
                    FROM pg_catalog.pg_db_role_setting r)))
        """;

    private static readonly string ProbeSql = string.Format(System.Globalization.CultureInfo.InvariantCulture, ProbeTemplate, "''");

    private static readonly string ProbeWithSettingsSql = string.Format(System.Globalization.CultureInfo.InvariantCulture, ProbeTemplate, """
        (SELECT pg_catalog.string_agg(pg_catalog.concat(g.name, '=', g.setting), ',' ORDER BY g.name)
                    FROM pg_catalog.pg_settings g WHERE g.source OPERATOR(pg_catalog.=) 'session')
        """);

    // In one session replaying from the base, every sequence that has been called has currval = last_value
    // (nextval and setval(..., true) both set it); setval to the same value sets it again and moves nothing.
    private const string ResumeSql = """
        SELECT pg_catalog.count(pg_catalog.setval(c.oid, s.last_value, true))
          FROM pg_catalog.pg_sequences s
          JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) s.schemaname
          JOIN pg_catalog.pg_class c ON c.relnamespace OPERATOR(pg_catalog.=) n.oid AND c.relname OPERATOR(pg_catalog.=) s.sequencename
         WHERE s.last_value IS NOT NULL AND pg_catalog.has_sequence_privilege(c.oid, 'UPDATE')
        """;

    // Types below it are PostgreSQL's own, which Npgsql names without asking the database.
    private const uint FirstNormalObjectId = 16384;

    private readonly OneOffConnection _owned;
    private readonly NpgsqlConnection _connection;
    private readonly List<string> _notices = [];
    private readonly List<string> _noticeStates = [];
    private ResultBudget? _budget;
    private int _noticesSeen;
    private int _noticesDroppedForStatement;
    private int _noticesDroppedForRun;
    private NpgsqlCommand? _running;
    private bool _watchSettings;
    private bool _stoppedForNotices;
    private bool _disposed;

    // The probe after one statement is the probe before the next: one round trip per statement, not two.
    private Probe? _lastProbe;

    internal NpgsqlSqlSession(OneOffConnection connection)
    {
        _owned = connection;
        _connection = connection.Connection;
        _connection.Notice += (_, e) => Noticed(e.Notice);
    }

    private sealed record Probe(string Data, string Session, bool WithSettings);

    public async Task<StatementOutcome> ExecuteAsync(SqlStatement statement, ResultBudget budget, TimeSpan timeout, CancellationToken cancellationToken)
    {
        BeginStatement(budget);
        var cuts = new CutCounter(budget.Limits);
        var watch = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The server's statement_timeout can be changed by the student; this one cannot.
        deadline.CancelAfter(timeout + TimeSpan.FromSeconds(2));
        Probe? before = null;
        try
        {
            before = _lastProbe is { } last && last.WithSettings == _watchSettings ? last : await ProbeAsync(cancellationToken);
            _lastProbe = null;
            var (tag, rows, results) = statement.Kind == StatementKind.CopyFromStdin
                ? await CopyInAsync(statement, deadline.Token)
                : await QueryAsync(statement, budget, cuts, deadline.Token);

            // The statement finished: what it did is reported even when a Stop arrives now.
            var after = await ProbeAsync(CancellationToken.None);
            _lastProbe = after;
            var touchedSession = before.Session != after.Session && statement.Kind is StatementKind.Other or StatementKind.CopyFromStdin;
            var changed = before.Data != after.Data || touchedSession || statement.Kind != StatementKind.Other || MentionsSequence(statement) || IsMaintenance(statement);
            return new StatementOutcome(statement.Index, StatementStatus.Executed, tag, rows, results, [.. _notices], watch.Elapsed, null, changed)
            {
                Cuts = NoticeCuts(cuts),
                TouchedSession = touchedSession,
            };
        }
        catch (PostgresException e) when (e.SqlState != PostgresErrorCodes.QueryCanceled || !cancellationToken.IsCancellationRequested)
        {
            // Even an error with a position in the statement's text may come after something ran (an
            // IMMUTABLE function of the student's is run while the query is planned): the probe decides.
            var nothingChanged = await UnchangedSinceAsync(before);
            return Failed(statement, watch.Elapsed, e.SqlState, e.MessageText, e.Detail, e.Hint, e.Position, nothingChanged) with { Cuts = NoticeCuts(cuts) };
        }
        catch (NpgsqlException e) when (e is not PostgresException && !_connection.FullState.HasFlag(System.Data.ConnectionState.Open))
        {
            return Failed(statement, watch.Elapsed, "08006", "The connection to your instance was lost while this statement ran (the instance stopped).", null,
                "Run again: the instance is restarted and brought back to the state before this statement.", 0, nothingChanged: false);
        }
        catch (Exception e) when (e is OperationCanceledException || (e is PostgresException && cancellationToken.IsCancellationRequested))
        {
            var nothingChanged = await UnchangedSinceAsync(before);
            if (cancellationToken.IsCancellationRequested)
            {
                return StatementOutcome.Stopped(statement, watch.Elapsed) with { Notices = [.. _notices], Cuts = NoticeCuts(cuts), ChangedState = !nothingChanged };
            }

            var timedOut = Failed(statement, watch.Elapsed, "57014", $"The statement ran longer than {timeout.TotalSeconds:0} s and was stopped.", null,
                "Make it faster (an index, a smaller result), or ask for a longer statement timeout.", 0, nothingChanged);
            return timedOut with { Cuts = NoticeCuts(cuts) };
        }
    }

    public void WatchSettings() => _watchSettings = true;

    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        _lastProbe = null;
        try
        {
            await using var resume = new NpgsqlCommand(ResumeSql, _connection);
            await resume.ExecuteScalarAsync(cancellationToken);
        }
        catch (PostgresException)
        {
            // A role or database made read-only by the student refuses setval: currval stays unset, as the
            // statements that follow will say if they need it.
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
        BeginStatement(null);
        try
        {
            await using var rollback = new NpgsqlCommand("ROLLBACK", _connection);
            await rollback.ExecuteNonQueryAsync(cancellationToken);
            return !_noticeStates.Contains("25P01");
        }
        catch (NpgsqlException)
        {
            // A cancel meant for the statement before (the storage guard's, a flood's) landed here: the state is not known.
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            await _owned.DisposeAsync();
        }
    }

    private void BeginStatement(ResultBudget? budget)
    {
        _budget = budget;
        _notices.Clear();
        _noticeStates.Clear();
        _noticesSeen = 0;
        _noticesDroppedForStatement = 0;
        _noticesDroppedForRun = 0;
        _stoppedForNotices = false;
        _running = null;
    }

    /// <summary>Keeps a notice while the statement's and the run's bounds allow; counts the rest, holding none of them.</summary>
    private void Noticed(PostgresNotice notice)
    {
        if (_budget is not { } budget)
        {
            // The runner's own ROLLBACK: only its SQLSTATE matters.
            _noticeStates.Add(notice.SqlState);
            return;
        }

        _noticesSeen++;
        if (_noticesSeen > budget.Limits.MaxNoticesPerStatement)
        {
            _noticesDroppedForStatement++;
            if (_noticesSeen > budget.Limits.NoticesBeforeStop && !_stoppedForNotices && _running is { } flooding)
            {
                // Off the reading thread: a cancel opens a connection of its own.
                _stoppedForNotices = true;
                _ = Task.Run(flooding.Cancel);
            }

            return;
        }

        var text = Cut($"{notice.Severity}: {notice.MessageText}", budget.Limits.MaxValueBytes)!;

        if (!budget.TryTakeNotice(Encoding.UTF8.GetByteCount(text)))
        {
            _noticesDroppedForRun++;
            return;
        }

        _notices.Add(text);
    }

    private List<ResultCut> NoticeCuts(CutCounter cuts)
    {
        var all = cuts.ToList();
        if (_budget is { } budget)
        {
            if (_noticesDroppedForStatement > 0)
            {
                all.Add(new ResultCut(ResultCutKind.NoticesPerStatement, budget.Limits.MaxNoticesPerStatement, _noticesDroppedForStatement));
            }

            if (_noticesDroppedForRun > 0)
            {
                all.Add(new ResultCut(ResultCutKind.NoticesPerRun, budget.Limits.MaxNoticesPerRun, _noticesDroppedForRun));
            }
        }

        return all;
    }

    /// <summary>What the bounds cut from one statement's results.</summary>
    private sealed class CutCounter(ResultLimits limits)
    {
        public bool Rows { get; set; }

        public bool Bytes { get; set; }

        public long Values { get; set; }

        public List<ResultCut> ToList()
        {
            var cuts = new List<ResultCut>();
            if (Rows)
            {
                cuts.Add(new ResultCut(ResultCutKind.Rows, limits.MaxRows, 0));
            }

            if (Bytes)
            {
                cuts.Add(new ResultCut(ResultCutKind.Bytes, limits.MaxBytes, 0));
            }

            if (Values > 0)
            {
                cuts.Add(new ResultCut(ResultCutKind.Values, limits.MaxValueBytes, Values));
            }

            return cuts;
        }
    }

    private async Task<(string? Tag, long? Rows, IReadOnlyList<ResultSet> Results)> QueryAsync(SqlStatement statement, ResultBudget budget, CutCounter cuts, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(statement.Text, _connection) { AllResultTypesAreUnknown = true };
        await using var registration = cancellationToken.Register(command.Cancel);
        _running = command;
        var results = new List<ResultSet>();

        // Sequential access: a row is read off the wire column by column, so a huge value is skipped, never buffered.
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
        // NpgsqlBatch would give the statement's type and row count without this, but cannot ask for text results.
#pragma warning disable CS0618
        var statementCommand = reader.Statements[0];
#pragma warning restore CS0618
        var cancelledForCap = false;
        var unnamed = new List<(List<ResultColumn> Columns, int Index, uint Oid)>();
        var limits = budget.Limits;
        var buffer = new byte[Math.Min(limits.MaxValueBytes, 64 * 1024)];
        do
        {
            if (reader.FieldCount == 0)
            {
                continue;
            }

            var columns = Enumerable.Range(0, reader.FieldCount).Select(i => new ResultColumn(reader.GetName(i), reader.GetDataTypeName(i))).ToList();
            for (var i = 0; i < columns.Count; i++)
            {
                if (reader.GetDataTypeOID(i) is var oid and >= FirstNormalObjectId)
                {
                    unnamed.Add((columns, i, oid));
                }
            }

            var rows = new List<string?[]>();
            var truncated = false;
            while (await reader.ReadAsync(cancellationToken))
            {
                if (rows.Count >= limits.MaxRows || budget.BytesLeft <= 0)
                {
                    cuts.Rows |= rows.Count >= limits.MaxRows;
                    cuts.Bytes |= rows.Count < limits.MaxRows;
                    truncated = true;
                    break;
                }

                var row = new string?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = await ReadValueAsync(reader, i, budget, cuts, buffer, cancellationToken);
                }

                budget.TryTakeBytes(Math.Min(budget.BytesLeft, 8L * row.Length));
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

            _running = null;
            await NameTypesAsync(unnamed, cancellationToken);

            return (TagOf(statement, StatementType.Select, results[0].Rows.Count), results[0].Rows.Count, results);
        }

        await reader.DisposeAsync();
        _running = null;
        await NameTypesAsync(unnamed, cancellationToken);
        var type = statementCommand.StatementType;
        var affected = type is StatementType.Insert or StatementType.Update or StatementType.Delete or StatementType.Merge or StatementType.Copy
            ? (long)statementCommand.Rows
            : (long?)null;
        return (TagOf(statement, type, affected ?? results.FirstOrDefault()?.Rows.Count), affected ?? results.FirstOrDefault()?.Rows.Count, results);
    }

    /// <summary>
    /// One value in text form: its length is known before it is read, and only what the bounds allow is read
    /// (the rest is skipped on the wire); a cut value ends with "…" and is counted.
    /// </summary>
    private static async Task<string?> ReadValueAsync(NpgsqlDataReader reader, int column, ResultBudget budget, CutCounter cuts, byte[] buffer, CancellationToken cancellationToken)
    {
        if (await reader.IsDBNullAsync(column, cancellationToken))
        {
            return null;
        }

        await using var stream = await reader.GetFieldValueAsync<Stream>(column, cancellationToken);
        var length = stream.Length;
        var take = (int)Math.Min(length, Math.Min(budget.Limits.MaxValueBytes, Math.Max(0, budget.BytesLeft)));
        var bytes = take <= buffer.Length ? buffer : new byte[take];
        var read = 0;
        while (read < take)
        {
            var n = await stream.ReadAsync(bytes.AsMemory(read, take - read), cancellationToken);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        budget.TryTakeBytes(read);
        if (read >= length)
        {
            return Encoding.UTF8.GetString(bytes, 0, read);
        }

        cuts.Values++;
        // A cut may split a character: the decoder keeps only whole ones.
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[Encoding.UTF8.GetMaxCharCount(read)];
        decoder.Convert(bytes, 0, read, chars, 0, chars.Length, flush: false, out _, out var charCount, out _);
        return new string(chars, 0, charCount) + "…";
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

    /// <summary>
    /// What a statement could change without saying so: the next transaction id and the one assigned, the
    /// sequences' values (nextval needs no transaction id), and a digest of the session state that no layer
    /// keeps. All stay put when a statement changed nothing.
    /// </summary>
    /// <summary>
    /// Names the result columns whose types the database made (enums, domains' arrays, composites, an
    /// extension's): the session loads no types, and a type made after it opened would not be known anyway.
    /// One query, only for a result that has such a column; the names stay Npgsql's if it cannot run.
    /// </summary>
    private async Task NameTypesAsync(List<(List<ResultColumn> Columns, int Index, uint Oid)> unnamed, CancellationToken cancellationToken)
    {
        if (unnamed.Count == 0)
        {
            return;
        }

        var oids = string.Join(',', unnamed.Select(u => u.Oid).Distinct());
        await using var command = new NpgsqlCommand(
            "SELECT t.oid::pg_catalog.int8, pg_catalog.format_type(t.oid, NULL) FROM pg_catalog.pg_type t WHERE t.oid OPERATOR(pg_catalog.=) ANY (('{' || $1 || '}')::pg_catalog.oid[])",
            _connection);
        command.Parameters.Add(new NpgsqlParameter { Value = oids, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var names = new Dictionary<uint, string>();
        using var aside = SetBudgetAside();
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                names[(uint)reader.GetInt64(0)] = reader.GetString(1);
            }
        }
        catch (PostgresException)
        {
            return;
        }

        foreach (var (columns, index, oid) in unnamed)
        {
            if (names.TryGetValue(oid, out var name))
            {
                columns[index] = columns[index] with { TypeName = name };
            }
        }
    }

    private async Task<Probe> ProbeAsync(CancellationToken cancellationToken)
    {
        await using var probe = new NpgsqlCommand(_watchSettings ? ProbeWithSettingsSql : ProbeSql, _connection);
        using var aside = SetBudgetAside();
        try
        {
            await using var reader = await probe.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new Probe(reader.GetString(0), reader.GetString(1), _watchSettings);
        }
        catch (PostgresException e) when (e.SqlState == "25P02")
        {
            // Inside an aborted transaction nothing runs, and nothing changes.
            return new Probe("aborted", "aborted", _watchSettings);
        }
    }

    /// <summary>The platform's own queries in the session: their notices are not the student's, so no budget counts them until the returned value is disposed.</summary>
    private BudgetAside SetBudgetAside()
    {
        var aside = new BudgetAside(this, _budget);
        _budget = null;
        return aside;
    }

    private readonly struct BudgetAside(NpgsqlSqlSession session, ResultBudget? budget) : IDisposable
    {
        public void Dispose() => session._budget = budget;
    }

    /// <summary>
    /// After a statement that failed while it ran: whether the probe still reads as it did before it (nothing
    /// committed, no sequence moved, the session as it was). False when that cannot be asked.
    /// </summary>
    private async Task<bool> UnchangedSinceAsync(Probe? before)
    {
        _lastProbe = null;
        if (before is null || !_connection.FullState.HasFlag(System.Data.ConnectionState.Open))
        {
            return false;
        }

        try
        {
            _lastProbe = await ProbeAsync(CancellationToken.None);
            return _lastProbe == before;
        }
        catch (NpgsqlException)
        {
            // A cancel that arrived late stopped the probe instead: nothing is known.
            return false;
        }
    }

    private StatementOutcome Failed(SqlStatement statement, TimeSpan duration, string sqlState, string message, string? detail, string? hint, int position, bool nothingChanged)
    {
        _running = null;
        if (_stoppedForNotices && sqlState == PostgresErrorCodes.QueryCanceled && _budget is { } flooded)
        {
            (sqlState, message, detail, hint) = ("54000",
                $"This statement raised more than {flooded.Limits.NoticesBeforeStop:N0} notices and was stopped: a flood of notices slows every student's runs.",
                null, $"Raise fewer notices (your plan keeps the first {flooded.Limits.MaxNoticesPerStatement} of a statement), or count in a variable and raise one at the end.");
        }

        // A student's RAISE can make an error of any length: what is kept is cut like any value.
        var cut = _budget?.Limits.MaxValueBytes ?? new ResultLimits().MaxValueBytes;
        return new(statement.Index, StatementStatus.Error, null, null, [], [.. _notices], duration,
            new RunError(sqlState, Cut(message, cut)!, Cut(detail, cut), Cut(hint, cut), statement.Span.File, statement.Locate(position > 0 ? position : 1)), !nothingChanged);
    }

    private static string? Cut(string? text, int length) => text is not null && text.Length > length ? text[..length] + "…" : text;

    private static bool IsQuery(SqlStatement statement) =>
        QueryStarts.Any(start => statement.Normalized.StartsWith(start, StringComparison.Ordinal));

    /// <summary>
    /// VACUUM and its kind change no row and take no transaction id, but they change where later rows go
    /// (freed space is reused), which a query without ORDER BY shows: they count as changes.
    /// </summary>
    private static bool IsMaintenance(SqlStatement statement) =>
        MaintenanceStarts.Any(start => statement.Normalized.StartsWith(start, StringComparison.Ordinal));

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
