using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>
/// The control-plane PostgreSQL that Taidon runs itself when no connection string is configured: a
/// cluster in <c>&lt;data directory&gt;/control-plane</c>, created on first start, reused afterwards
/// (also when a previous run left it running) and stopped when Taidon stops.
/// </summary>
public sealed class EmbeddedControlPlane
{
    public const string DatabaseName = "taidon";

    private readonly PostgresCluster _cluster;

    private EmbeddedControlPlane(PostgresCluster cluster, string connectionString)
    {
        _cluster = cluster;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; private set; }

    public PostgresCluster Cluster => _cluster;

    public static async Task<EmbeddedControlPlane> StartAsync(string dataDirectory, PostgresOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var binaries = PostgresBinaries.Locate(options.BinDirectory);
        var owner = OsUser.ForPostgres(options.OsUser);

        Directory.CreateDirectory(dataDirectory);
        // Others may pass through (the PostgreSQL account must reach its cluster) but not list.
        File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var password = await ReadOrCreatePasswordAsync(Path.Combine(dataDirectory, "secrets"), cancellationToken);

        var cluster = new PostgresCluster(binaries, Path.Combine(dataDirectory, "control-plane"), owner, logger);
        var controlPlane = new EmbeddedControlPlane(cluster, "");
        await cluster.InitializeAsync(password, ControlPlaneSettings, cancellationToken);

        var port = await cluster.GetRunningPortAsync(cancellationToken);
        if (port is null)
        {
            port = await cluster.StartAsync(null, cancellationToken);
        }
        else
        {
            logger.LogInformation("Reusing the control-plane PostgreSQL already running on 127.0.0.1:{Port}", port);
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port.Value,
            Username = PostgresCluster.Superuser,
            Password = password,
            Database = DatabaseName,
        };
        await EnsureDatabaseAsync(builder, cancellationToken);
        controlPlane.ConnectionString = builder.ConnectionString;
        return controlPlane;
    }

    /// <summary>Creates a database in this cluster (for tests that want one database each) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name };
        await EnsureDatabaseAsync(builder, cancellationToken);
        return builder.ConnectionString;
    }

    /// <summary>Stops the cluster, including one that an earlier run left behind and this run adopted.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection.ClearAllPools();
        await _cluster.StopAsync(cancellationToken);
    }

    private static readonly Dictionary<string, string> ControlPlaneSettings = new()
    {
        ["max_connections"] = "200",
        ["shared_buffers"] = "64MB",
        ["log_min_messages"] = "warning",
    };

    private static async Task<string> ReadOrCreatePasswordAsync(string secretsDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(secretsDirectory);
        File.SetUnixFileMode(secretsDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var file = Path.Combine(secretsDirectory, "control-plane-password");
        if (File.Exists(file))
        {
            return (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
        }

        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var temporary = file + ".tmp";
        await File.WriteAllTextAsync(temporary, password, cancellationToken);
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, file, overwrite: true);
        return password;
    }

    private static async Task EnsureDatabaseAsync(NpgsqlConnectionStringBuilder target, CancellationToken cancellationToken)
    {
        var admin = new NpgsqlConnectionStringBuilder(target.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.AddWithValue(target.Database!);
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{target.Database!.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
