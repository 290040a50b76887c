using System.Buffers.Binary;
using Npgsql;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.Persistence;

/// <summary>
/// The layer build gate as a PostgreSQL advisory lock in the control plane, keyed by the chain key's
/// first eight bytes: every replica of the app sees the same lock.
/// </summary>
public sealed class AdvisoryLayerBuildGate(ControlPlaneConnection controlPlane) : ILayerBuildGate
{
    public async Task<IAsyncDisposable> EnterAsync(ChainKey key, CancellationToken cancellationToken)
    {
        Span<byte> bytes = stackalloc byte[32];
        key.CopyTo(bytes);
        var lockId = BinaryPrimitives.ReadInt64BigEndian(bytes);
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(controlPlane.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_lock($1)", connection) { Parameters = { new() { Value = lockId } } };
            await command.ExecuteNonQueryAsync(cancellationToken);
            return new Held(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Closing the session releases its advisory locks.</summary>
    private sealed class Held(NpgsqlConnection connection) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
