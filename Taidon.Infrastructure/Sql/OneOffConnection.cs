using Npgsql;

namespace Taidon.Infrastructure.Sql;

/// <summary>
/// A connection to an instance that leaves nothing behind in Npgsql. <c>new NpgsqlConnection(string)</c> keeps a
/// data source for each connection string it sees, for the life of the process (about 57 KB each here), and an
/// instance's address changes on every rewind to a standby server (its port) or to a new pod: one more each
/// rerun. This one has a data source of its own, given back with the connection. It loads no types either: a
/// data source's first connection would ask the server for them, on a server whose caches are cold, and what
/// the platform reads is text and PostgreSQL's own types.
/// </summary>
public sealed class OneOffConnection : IAsyncDisposable
{
    private readonly NpgsqlDataSource _source;

    private OneOffConnection(NpgsqlDataSource source, NpgsqlConnection connection) => (_source, Connection) = (source, connection);

    public NpgsqlConnection Connection { get; }

    public static async Task<OneOffConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConfigureTypeLoading(types => types.EnableTypeLoading(false));
        var source = builder.Build();
        try
        {
            return new OneOffConnection(source, await source.OpenConnectionAsync(cancellationToken));
        }
        catch
        {
            await source.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await _source.DisposeAsync();
    }
}
