using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Taidon.Infrastructure;
using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Tests.Infrastructure.LocalRuntime;

/// <summary>The embedded control plane against real PostgreSQL processes, each test in its own data directory.</summary>
public sealed class EmbeddedControlPlaneTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"taidon-embedded-{Guid.NewGuid():N}");
    private EmbeddedControlPlane? _running;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_running is not null)
        {
            await _running.StopAsync(CancellationToken.None);
        }

        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task CreatesTheClusterOnFirstStartAndKeepsItsDataAcrossRestarts()
    {
        var first = await StartAsync();
        await ExecuteAsync(first.ConnectionString, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42);");
        await first.StopAsync(CancellationToken.None);
        Assert.Null(await first.Cluster.GetRunningPortAsync(CancellationToken.None));

        var second = await StartAsync();

        Assert.Equal(42, await ScalarAsync<int>(second.ConnectionString, "SELECT id FROM kept"));
    }

    [Fact]
    public async Task AdoptsAClusterThatAnEarlierRunLeftRunning()
    {
        var first = await StartAsync();
        var port = new NpgsqlConnectionStringBuilder(first.ConnectionString).Port;

        // A crash leaves the postmaster running; the next start finds it and uses it.
        var second = await StartAsync();

        Assert.Equal(port, new NpgsqlConnectionStringBuilder(second.ConnectionString).Port);
        Assert.Equal(1, await ScalarAsync<int>(second.ConnectionString, "SELECT 1"));
    }

    [Fact]
    public async Task ListensOnLoopbackOnlyWithPasswordAuthenticationAndNoUnixSocket()
    {
        var controlPlane = await StartAsync();

        Assert.Equal("127.0.0.1", await ScalarAsync<string>(controlPlane.ConnectionString, "SHOW listen_addresses"));
        Assert.Equal("", await ScalarAsync<string>(controlPlane.ConnectionString, "SHOW unix_socket_directories"));
        var wrongPassword = new NpgsqlConnectionStringBuilder(controlPlane.ConnectionString) { Password = "wrong", Pooling = false };
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<int>(wrongPassword.ConnectionString, "SELECT 1"));
        Assert.Equal("28P01", refused.SqlState);
    }

    [Fact]
    public async Task RunsThePostmasterAsAnUnprivilegedAccountWhenTaidonIsRoot()
    {
        var controlPlane = await StartAsync();

        var owner = await ScalarAsync<string>(controlPlane.ConnectionString, "SELECT pg_read_file('postmaster.pid', 0, 12)");
        var pid = int.Parse(owner.Split('\n')[0], System.Globalization.CultureInfo.InvariantCulture);
        var postmasterUid = Uid($"/proc/{pid}/status");
        if (OsUser.CurrentIsRoot)
        {
            Assert.NotEqual("0", postmasterUid);
        }
        else
        {
            Assert.Equal(Uid("/proc/self/status"), postmasterUid);
        }
    }

    private static string Uid(string statusFile) =>
        File.ReadAllLines(statusFile).First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t')[1];

    [Fact]
    public async Task AClusterOfAnotherMajorVersionIsRefusedWithAClearMessage()
    {
        var controlPlane = await StartAsync();
        await controlPlane.StopAsync(CancellationToken.None);
        _running = null;
        await File.WriteAllTextAsync(Path.Combine(controlPlane.Cluster.DataDirectory, "PG_VERSION"), "9\n");

        var error = await Assert.ThrowsAsync<PostgresClusterException>(StartAsync);

        Assert.Contains("was made by PostgreSQL 9", error.Message, StringComparison.Ordinal);
        Assert.Contains("Taidon:Postgres:BinDirectory", error.Message, StringComparison.Ordinal);
    }

    private async Task<EmbeddedControlPlane> StartAsync()
    {
        _running = await EmbeddedControlPlane.StartAsync(_dataDirectory, new PostgresOptions(), NullLogger.Instance, CancellationToken.None);
        return _running;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
