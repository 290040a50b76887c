using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Tests.Core.SqlChain;

/// <summary>
/// psql itself, as the oracle of where statements end: a PostgreSQL cluster that logs every statement
/// it receives (log_statement = all, CSV log), and psql run on a script against it. What the log
/// records is exactly what psql sent.
/// </summary>
public sealed class PsqlOracle : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"taidon-oracle-{Guid.NewGuid():N}");
    private readonly string _password = Guid.NewGuid().ToString("N");
    private PostgresCluster _cluster = null!;
    private int _port;
    private int _runs;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        _cluster = new PostgresCluster(PostgresBinaries.Locate(null), Path.Combine(_root, "cluster"), OsUser.ForPostgres(null), NullLogger.Instance);
        await _cluster.InitializeAsync(_password, new Dictionary<string, string>
        {
            ["log_statement"] = "all",
            ["logging_collector"] = "on",
            ["log_destination"] = "csvlog",
            ["log_directory"] = "log",
            ["log_filename"] = "oracle",
            ["log_min_error_statement"] = "error",
            ["log_rotation_size"] = "0",
        }, CancellationToken.None);
        _port = await _cluster.StartAsync(null, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAsync(CancellationToken.None);
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Runs the script with psql in a fresh database and returns the statements the server received, in order.</summary>
    public async Task<IReadOnlyList<string>> StatementsSentByPsqlAsync(string scriptPath)
    {
        var run = $"oracle_{Interlocked.Increment(ref _runs)}";
        await PsqlAsync("postgres", ["-c", $"CREATE DATABASE {run}"], "setup");
        await PsqlAsync(run, ["-f", scriptPath], run);
        var marker = $"SELECT 'end of {run}'";
        await PsqlAsync(run, ["-c", marker], run);

        // The logging collector writes a little later: wait for the marker.
        var log = Path.Combine(_cluster.DataDirectory, "log", "oracle.csv");
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var rows = File.Exists(log) ? CsvLog.Read(await File.ReadAllTextAsync(log)).Where(r => r.ApplicationName == run).ToList() : [];
            if (rows.Any(r => r.Message == "statement: " + marker))
            {
                return Sent(rows.TakeWhile(r => r.Message != "statement: " + marker));
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"The server log never showed the end of {run}.");
    }

    private static List<string> Sent(IEnumerable<CsvLog.Row> rows)
    {
        var sent = new List<string>();
        var statementLogged = false;
        foreach (var row in rows)
        {
            if (row.Severity == "LOG" && row.Message.StartsWith("statement: ", StringComparison.Ordinal))
            {
                sent.Add(row.Message["statement: ".Length..]);
                statementLogged = true;
            }
            else if (row.Severity == "ERROR" && !string.IsNullOrEmpty(row.Query))
            {
                // A statement that does not parse is not logged as a statement, only with its error.
                if (!(statementLogged && sent[^1] == row.Query))
                {
                    sent.Add(row.Query);
                }

                statementLogged = false;
            }
        }

        return sent;
    }

    private async Task PsqlAsync(string database, string[] arguments, string applicationName)
    {
        var psql = Path.Combine(_cluster.Binaries.BinDirectory, "psql");
        var result = await ProcessRunner.RunAsync(
            psql,
            ["-X", "-q", "-h", "127.0.0.1", "-p", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-d", database, .. arguments],
            runAs: null,
            TimeSpan.FromMinutes(2),
            CancellationToken.None,
            new Dictionary<string, string> { ["PGPASSWORD"] = _password, ["PGAPPNAME"] = applicationName });
        if (result.ExitCode is not (0 or 1))
        {
            throw new InvalidOperationException($"psql failed ({result.ExitCode}): {result.Output}");
        }
    }

    /// <summary>PostgreSQL's CSV log: quoted fields with "" for a quote, rows that may span lines.</summary>
    private static class CsvLog
    {
        public sealed record Row(string Severity, string Message, string Query, string ApplicationName);

        public static IEnumerable<Row> Read(string text)
        {
            var fields = new List<string>();
            var field = new StringBuilder();
            var quoted = false;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else if (c == '"')
                    {
                        quoted = false;
                    }
                    else
                    {
                        field.Append(c);
                    }
                }
                else if (c == '"')
                {
                    quoted = true;
                }
                else if (c == ',')
                {
                    fields.Add(field.ToString());
                    field.Clear();
                }
                else if (c == '\n')
                {
                    fields.Add(field.ToString());
                    field.Clear();
                    // log_time, user, database, pid, from, session, line, tag, start, vxid, xid, severity, state,
                    // message, detail, hint, internal query, its position, context, query, query position,
                    // location, application name, ...
                    if (fields.Count >= 23)
                    {
                        yield return new Row(fields[11], fields[13], fields[19], fields[22]);
                    }

                    fields = [];
                }
                else
                {
                    field.Append(c);
                }
            }
        }
    }
}
