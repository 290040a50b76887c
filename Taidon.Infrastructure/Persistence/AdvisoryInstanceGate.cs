using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Npgsql;
using Taidon.Core.Instances;
using Taidon.Infrastructure.Runs;

namespace Taidon.Infrastructure.Persistence;

/// <summary>
/// The instance gate of several replicas: a PostgreSQL advisory lock per instance in the control plane,
/// held on a connection of its own for as long as the operation lasts. Within one replica the waiters queue
/// on <see cref="ProcessInstanceGate"/> first, so an instance holds at most one control-plane connection
/// per replica. A lock dies with its connection: a replica that dies frees its instances.
/// </summary>
public sealed class AdvisoryInstanceGate(ControlPlaneConnection controlPlane, ILogger<AdvisoryInstanceGate> logger) : IInstanceGate
{
    private readonly ProcessInstanceGate _here = new();
    private readonly string _connectionString = new NpgsqlConnectionStringBuilder(controlPlane.ConnectionString) { ApplicationName = "taidon-gate" }.ConnectionString;

    public async ValueTask<IAsyncDisposable> EnterAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        var here = await _here.EnterAsync(instanceId, cancellationToken);
        NpgsqlConnection? connection = null;
        try
        {
            connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync(cancellationToken);
            await using (var command = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
            {
                command.Parameters.AddWithValue("key", Key(instanceId));
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            return new Held(here, connection, instanceId, logger);
        }
        catch
        {
            if (connection is not null)
            {
                // A lock granted as the wait was cancelled must not stay with a pooled connection.
                await UnlockAllAsync(connection);
                await connection.DisposeAsync();
            }

            await here.DisposeAsync();
            throw;
        }
    }

    /// <summary>The lock's key: the instance id folded to 64 bits (two instances that share one only wait for each other).</summary>
    public static long Key(Guid instanceId)
    {
        Span<byte> bytes = stackalloc byte[16];
        instanceId.TryWriteBytes(bytes);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes) ^ BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
    }

    private static async Task UnlockAllAsync(NpgsqlConnection connection)
    {
        if (connection.State != System.Data.ConnectionState.Open)
        {
            return;
        }

        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", connection);
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // A broken connection holds no lock.
        }
    }

    private sealed class Held(IAsyncDisposable here, NpgsqlConnection connection, Guid instanceId, ILogger logger) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
                command.Parameters.AddWithValue("key", Key(instanceId));
                if (await command.ExecuteScalarAsync() is not true)
                {
                    logger.LogWarning("The control plane's lock on instance {InstanceId} was gone before it was released (the connection was lost)", instanceId);
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning(e, "Could not release the control plane's lock on instance {InstanceId}; it goes with its connection", instanceId);
                NpgsqlConnection.ClearPool(connection);
            }
            finally
            {
                await connection.DisposeAsync();
                await here.DisposeAsync();
            }
        }
    }
}
