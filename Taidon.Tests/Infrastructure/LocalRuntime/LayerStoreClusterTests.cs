using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.LocalRuntime.Snapshots;
using Taidon.Tests.Support;

namespace Taidon.Tests.Infrastructure.LocalRuntime;

/// <summary>Layers of real PostgreSQL clusters: a restored copy starts and holds the data; on btrfs too, loop-mounted.</summary>
public sealed class LayerStoreClusterTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"taidon-layer-cluster-{Guid.NewGuid():N}");
    private readonly string _password = Guid.NewGuid().ToString("N");
    private string? _mount;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_mount is not null)
        {
            await ProcessRunner.RunAsync("umount", ["-l", _mount], null, TimeSpan.FromMinutes(1), CancellationToken.None);
        }

        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task ARestoredLayerOfAStoppedClusterStartsWithItsData()
    {
        await PublishAndRestoreAsync(_root, expectedDriver: "copy");
    }

    [RootFact]
    public async Task OnBtrfsLayersAreSubvolumeSnapshots()
    {
        var image = Path.Combine(_root, "btrfs.img");
        _mount = Path.Combine(_root, "btrfs");
        Directory.CreateDirectory(_mount);
        await Run("truncate", "-s", "400M", image);
        await Run("mkfs.btrfs", "-q", image);
        await Run("mount", "-o", "loop", image, _mount);
        File.SetUnixFileMode(_mount, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);

        await PublishAndRestoreAsync(_mount, expectedDriver: "btrfs");

        var layers = Path.Combine(_mount, "store", "layers");
        var layerData = Path.Combine(Directory.EnumerateDirectories(layers).Single(), "data");
        var show = await ProcessRunner.RunAsync("btrfs", ["subvolume", "show", layerData], null, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(0, show.ExitCode);
    }

    private async Task PublishAndRestoreAsync(string directory, string expectedDriver)
    {
        var owner = OsUser.ForPostgres(null);
        var store = LayerStore.Open(Path.Combine(directory, "store"), TimeProvider.System, NullLogger.Instance);
        Assert.Equal(expectedDriver, store.Driver.Name);
        var instances = Path.Combine(directory, "instances");
        Directory.CreateDirectory(instances);
        File.SetUnixFileMode(instances, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);

        var original = new PostgresCluster(PostgresBinaries.Locate(null), Path.Combine(instances, "a"), owner, NullLogger.Instance);
        // The instance's data directory is made by the driver (a subvolume on btrfs), so its layers are snapshots.
        Directory.CreateDirectory(original.Root);
        await store.Driver.CreateEmptyAsync(original.DataDirectory, CancellationToken.None);
        await original.InitializeAsync(_password, new Dictionary<string, string>(), CancellationToken.None);
        var port = await original.StartAsync(null, CancellationToken.None);
        await ExecuteAsync(port, "CREATE TABLE kept (id int); INSERT INTO kept SELECT generate_series(1, 1000);");
        NpgsqlConnection.ClearAllPools();
        await original.StopAsync(CancellationToken.None);

        var key = EngineIdentity.PostgreSql(15).Root.Next("create table kept(id int)");
        await store.PublishAsync(key, null, original.DataDirectory, CancellationToken.None);

        var copy = new PostgresCluster(original.Binaries, Path.Combine(instances, "b"), owner, NullLogger.Instance);
        Directory.CreateDirectory(copy.Root);
        owner?.Own(copy.Root);
        await store.RestoreAsync(key, copy.DataDirectory, CancellationToken.None);
        var copyPort = await copy.StartAsync(null, CancellationToken.None);
        try
        {
            Assert.Equal(1000L, await ScalarAsync(copyPort, "SELECT count(*) FROM kept"));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await copy.StopAsync(CancellationToken.None);
        }
    }

    private async Task ExecuteAsync(int port, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(port));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> ScalarAsync(int port, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(port));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private string ConnectionString(int port) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "postgres", Password = _password, Database = "postgres", Pooling = false }.ConnectionString;

    private static async Task Run(string program, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(program, arguments, null, TimeSpan.FromMinutes(2), CancellationToken.None);
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {result.Output}");
    }
}
