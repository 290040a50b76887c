using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Taidon.Core.Runs;
using Taidon.Infrastructure.Persistence;

namespace Taidon.Infrastructure.Runs;

/// <summary>
/// The runs in progress of every replica of the app, through the control plane. A run lives in the
/// process that executes it (<see cref="ProcessActiveRuns"/>); its row in <c>runs_in_progress</c> says
/// so to the other replicas, with its progress as of the last second. A stop asked of another replica marks
/// the row and notifies (<c>NOTIFY taidon_run_stop</c>); the replica running it stops it at once, or at
/// its next second's look at its rows if the notification was missed. A replica that dies leaves rows
/// no one refreshes: they are not shown after <see cref="Stale"/> and are deleted later.
/// </summary>
public sealed class ControlPlaneActiveRuns : IActiveRuns, IHostedService, IAsyncDisposable
{
    private const string StopChannel = "taidon_run_stop";

    /// <summary>A row not refreshed for this long belongs to a replica that is gone.</summary>
    public static readonly TimeSpan Stale = TimeSpan.FromSeconds(30);

    private readonly ProcessActiveRuns _here;
    private readonly string _connectionString;
    private readonly ILogger<ControlPlaneActiveRuns> _logger;
    private readonly TimeSpan _interval;
    private readonly ConcurrentDictionary<Guid, Task> _registered = new();
    private readonly ConcurrentQueue<Guid> _ended = new();
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _disposed;
    private Task _flushing = Task.CompletedTask;
    private Task _listening = Task.CompletedTask;

    public ControlPlaneActiveRuns(ControlPlaneConnection controlPlane, TimeProvider clock, ILogger<ControlPlaneActiveRuns> logger, TimeSpan? interval = null)
    {
        _here = new ProcessActiveRuns(clock, run => _ = EndAsync(run.Id));
        _connectionString = new NpgsqlConnectionStringBuilder(controlPlane.ConnectionString) { ApplicationName = "taidon-runs" }.ConnectionString;
        _logger = logger;
        _interval = interval ?? TimeSpan.FromSeconds(1);
    }

    /// <summary>This process among the replicas (the pod's name in Kubernetes).</summary>
    public string Replica { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    public IReadOnlyCollection<ActiveRun> Here => _here.Here;

    public ActiveRun Begin(string ownerId, Guid? id, CancellationToken aborted)
    {
        var run = _here.Begin(ownerId, id, aborted);
        // The row is written at once, off the run's path; the end of the run waits for it before deleting it.
        _registered[run.Id] = RegisterAsync(run);
        return run;
    }

    public async Task<RunInProgress?> FindAsync(string ownerId, Guid id, CancellationToken cancellationToken)
    {
        if (_here.Find(ownerId, id) is { } run)
        {
            return RunInProgress.Of(run);
        }

        return (await ReadAsync("id = @id AND owner_id = @owner", ownerId, id, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<RunInProgress>> OfOwnerAsync(string ownerId, CancellationToken cancellationToken)
    {
        var here = _here.OfOwner(ownerId).Select(RunInProgress.Of).ToList();
        var elsewhere = await ReadAsync("owner_id = @owner AND replica <> @replica", ownerId, null, cancellationToken);
        return [.. here.Concat(elsewhere.Where(r => here.All(h => h.Id != r.Id))).OrderBy(r => r.StartedAt)];
    }

    public async Task<RunInProgress?> StopAsync(string ownerId, Guid id, CancellationToken cancellationToken)
    {
        if (_here.Find(ownerId, id) is { } run)
        {
            run.Stop();
            return RunInProgress.Of(run);
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"""
            WITH marked AS (
                UPDATE runs_in_progress SET stop_requested = true
                WHERE id = @id AND owner_id = @owner AND seen_at > now() - @stale
                RETURNING {Columns})
            SELECT m.*, pg_notify('{StopChannel}', m.id::text) FROM marked m
            """, connection);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("owner", ownerId);
        command.Parameters.AddWithValue("stale", Stale);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _flushing = FlushLoopAsync(_stopping.Token);
        _listening = ListenLoopAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_disposed)
        {
            // A host may stop the service after its container disposed it: it is stopped already.
            return;
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_flushing, _listening).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        // The rows of runs still going (their requests are being aborted) go with this replica.
        await FlushAsync(final: true, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_flushing, _listening).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _disposed = true;
        _stopping.Dispose();
    }

    private const string Columns = "id, owner_id, started_at, current, total, phase, subject, stop_requested";

    private async Task RegisterAsync(ActiveRun run)
    {
        try
        {
            await using var connection = await OpenAsync(CancellationToken.None);
            await using var command = new NpgsqlCommand(
                """
                INSERT INTO runs_in_progress (id, owner_id, replica, started_at, current, total, phase, stop_requested, seen_at)
                VALUES (@id, @owner, @replica, @started, 0, 0, NULL, false, now())
                ON CONFLICT (id) DO NOTHING
                """, connection);
            command.Parameters.AddWithValue("id", run.Id);
            command.Parameters.AddWithValue("owner", run.OwnerId);
            command.Parameters.AddWithValue("replica", Replica);
            command.Parameters.AddWithValue("started", run.StartedAt);
            if (await command.ExecuteNonQueryAsync() == 0)
            {
                _logger.LogWarning("Run {RunId} has the id of a run in progress on another replica; only this replica can stop it", run.Id);
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The run goes on: only another replica's view of it is missing.
            _logger.LogWarning(e, "Could not tell the other replicas about run {RunId}", run.Id);
        }
    }

    /// <summary>Deletes an ended run's row at once (after its insert); should that fail, the next flush tries again.</summary>
    private async Task EndAsync(Guid id)
    {
        if (_registered.TryRemove(id, out var registered))
        {
            await registered;
        }

        try
        {
            await using var connection = await OpenAsync(CancellationToken.None);
            await using var command = new NpgsqlCommand("DELETE FROM runs_in_progress WHERE id = @id AND replica = @replica", connection);
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("replica", Replica);
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            _logger.LogWarning(e, "Could not tell the other replicas that run {RunId} ended; trying again", id);
            _ended.Enqueue(id);
        }
    }

    private async Task FlushLoopAsync(CancellationToken stopping)
    {
        var sinceSweep = TimeSpan.Zero;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_interval, stopping);
                sinceSweep += _interval;
                await FlushAsync(final: false, stopping);
                if (sinceSweep >= TimeSpan.FromMinutes(1))
                {
                    sinceSweep = TimeSpan.Zero;
                    await SweepAsync(stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                _logger.LogWarning(e, "Could not write the runs in progress to the control plane; trying again");
            }
        }
    }

    /// <summary>
    /// Deletes the rows of ended runs, writes the progress of the others (which also says this replica is
    /// alive), and stops the runs another replica asked to stop (in case the notification was missed).
    /// </summary>
    private async Task FlushAsync(bool final, CancellationToken cancellationToken)
    {
        var ended = new List<Guid>();
        while (_ended.TryDequeue(out var id))
        {
            ended.Add(id);
        }

        var running = final ? [] : _here.Here.Where(r => _registered.TryGetValue(r.Id, out var t) && t.IsCompleted).ToList();
        if (final)
        {
            ended.AddRange(_here.Here.Select(r => r.Id));
        }

        if (ended.Count == 0 && running.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        if (ended.Count > 0)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM runs_in_progress WHERE id = ANY(@ids) AND replica = @replica")
            {
                Parameters = { new("ids", ended.ToArray()), new("replica", Replica) },
            });
        }

        if (running.Count > 0)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(
                """
                UPDATE runs_in_progress r SET current = u.current, total = u.total, phase = u.phase, subject = u.subject, seen_at = now()
                FROM unnest(@ids, @current, @total, @phase, @subject) AS u(id, current, total, phase, subject)
                WHERE r.id = u.id
                RETURNING r.id, r.stop_requested
                """)
            {
                Parameters =
                {
                    new("ids", running.Select(r => r.Id).ToArray()),
                    new("current", running.Select(r => r.Progress?.Current ?? 0).ToArray()),
                    new("total", running.Select(r => r.Progress?.Total ?? 0).ToArray()),
                    new("phase", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = running.Select(r => r.Progress?.Phase.ToString()).ToArray() },
                    new("subject", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = running.Select(r => r.Progress?.Subject).ToArray() },
                },
            });
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        do
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (reader.FieldCount == 2 && reader.GetBoolean(1))
                {
                    StopHere(reader.GetGuid(0));
                }
            }
        }
        while (await reader.NextResultAsync(cancellationToken));
    }

    /// <summary>Deletes the rows of replicas that are gone (their runs ended with them).</summary>
    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("DELETE FROM runs_in_progress WHERE seen_at < now() - @gone", connection);
        command.Parameters.AddWithValue("gone", 4 * Stale);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task ListenLoopAsync(CancellationToken stopping)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_connectionString) { Pooling = false, KeepAlive = 30 }.ConnectionString);
                await connection.OpenAsync(stopping);
                connection.Notification += (_, e) =>
                {
                    if (Guid.TryParse(e.Payload, out var id))
                    {
                        StopHere(id);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {StopChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping);
                }

                delay = TimeSpan.FromSeconds(1);
                while (true)
                {
                    await connection.WaitAsync(stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
            {
                // Stops still arrive through the rows each second meanwhile.
                _logger.LogWarning(e, "Lost the control plane's notifications of stopped runs; listening again in {Delay}", delay);
                await Task.Delay(delay, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromSeconds(Math.Min(30, delay.TotalSeconds * 2));
            }
        }
    }

    private void StopHere(Guid id)
    {
        if (_here.WithId(id) is { StopRequested: false } run)
        {
            _logger.LogInformation("Run {RunId} stopped at the request of another replica", id);
            run.Stop();
        }
    }

    private async Task<IReadOnlyList<RunInProgress>> ReadAsync(string where, string ownerId, Guid? id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM runs_in_progress WHERE {where} AND seen_at > now() - @stale ORDER BY started_at", connection);
        command.Parameters.AddWithValue("owner", ownerId);
        command.Parameters.AddWithValue("replica", Replica);
        command.Parameters.AddWithValue("stale", Stale);
        if (id is { } value)
        {
            command.Parameters.AddWithValue("id", value);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var runs = new List<RunInProgress>();
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(Read(reader));
        }

        return runs;
    }

    private static RunInProgress Read(NpgsqlDataReader reader)
    {
        var progress = reader.IsDBNull(5) || !Enum.TryParse<RunPhase>(reader.GetString(5), out var phase)
            ? null
            : new RunProgress(reader.GetInt32(3), reader.GetInt32(4), phase, reader.IsDBNull(6) ? null : reader.GetString(6));
        return new RunInProgress(reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), progress, reader.GetBoolean(7));
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
