using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Taidon.Core.Instances;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.LocalRuntime.Snapshots;

namespace Taidon.Tests.Infrastructure.LocalRuntime;

/// <summary>Instances of the embedded runtime against real PostgreSQL: a private, unprivileged student in each.</summary>
public sealed class LocalInstanceRuntimeTests : IAsyncLifetime
{
    private static readonly InstanceLimits Limits = new(MaxConnections: 4, StatementTimeout: TimeSpan.FromSeconds(2));

    // Short: the Unix socket path of an instance must stay under 108 bytes.
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"tdn-{Guid.NewGuid():N}"[..12]);
    private readonly List<Guid> _instances = [];
    private LocalInstanceRuntime _runtime = null!;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        var layers = LayerStore.Open(Path.Combine(_root, "layers"), TimeProvider.System, NullLogger.Instance);
        _runtime = Runtime(Path.Combine(_root, "i"), layers);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        foreach (var id in _instances)
        {
            await _runtime.DeleteAsync(id, CancellationToken.None);
        }

        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task AStudentOwnsTheWorkingDatabaseButIsNoSuperuser()
    {
        var connection = await CreateAsync();

        await ExecuteAsync(connection, "CREATE TABLE mine (id int); INSERT INTO mine VALUES (1);");

        Assert.Equal(1L, await ScalarAsync<long>(connection, "SELECT count(*) FROM mine"));
        Assert.False(await ScalarAsync<bool>(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"));
        Assert.Equal("workspace", await ScalarAsync<string>(connection, "SELECT current_database()"));
    }

    [Theory]
    [InlineData("SELECT pg_read_file('/etc/passwd')", "42501")]
    [InlineData("SELECT pg_ls_dir('.')", "42501")]
    [InlineData("COPY (SELECT 1) TO PROGRAM 'id'", "42501")]
    [InlineData("COPY (SELECT 1) TO '/tmp/x'", "42501")]
    [InlineData("ALTER SYSTEM SET fsync = on", "42501")]
    [InlineData("SET ROLE postgres", "42501")]
    [InlineData("SET SESSION AUTHORIZATION postgres", "42501")]
    [InlineData("CREATE ROLE intruder SUPERUSER", "42501")]
    [InlineData("SET temp_file_limit = -1", "42501")]
    [InlineData("SELECT lo_import('/etc/passwd')", "42501")]
    [InlineData("SELECT pg_sleep(5)", "57014")]
    [InlineData("DO $$ BEGIN LOOP END LOOP; END $$", "57014")]
    [InlineData("CREATE EXTENSION adminpack", "42501")]
    public async Task HostileStatementsAreRefusedAndTheInstanceStaysHealthy(string sql, string sqlState)
    {
        var connection = await CreateAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, sql));

        Assert.Equal(sqlState, error.SqlState);
        Assert.Equal(1, await ScalarAsync<int>(connection, "SELECT 1"));
    }

    [Fact]
    public async Task ThePostmasterRunsAtTheInstancesNicenessAsAnUnprivilegedAccountWithItsLogInItsFolder()
    {
        var connection = await CreateAsync();
        await using var data = new NpgsqlConnection(ConnectionString(connection));
        await data.OpenAsync();

        // What the postmaster forked (this backend) was born with its niceness and account.
        var backend = data.ProcessID;
        var stat = await File.ReadAllTextAsync($"/proc/{backend}/stat");
        var niceness = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(LocalInstanceRuntime.InstanceNiceness, niceness);
        var status = await File.ReadAllLinesAsync($"/proc/{backend}/status");
        var uid = status.First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t')[1];
        var groups = status.First(l => l.StartsWith("Groups:", StringComparison.Ordinal))["Groups:".Length..].Trim();
        if (OsUser.CurrentIsRoot)
        {
            Assert.NotEqual("0", uid);
            Assert.Equal("", groups);
        }

        // Its output goes to the instance's log, not to the app's.
        var log = Directory.EnumerateFiles(Path.Combine(_root, "i"), "postgres.log", SearchOption.AllDirectories).Single();
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => ExecuteAsync(connection, "SELECT pg_catalog.pg_terminate_backend(pg_catalog.pg_backend_pid())"));
        Assert.Contains("terminating connection", await File.ReadAllTextAsync(log), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpeningMoreConnectionsThanTheLimitIsRefused()
    {
        var connection = await CreateAsync();
        var open = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < Limits.MaxConnections; i++)
            {
                var c = new NpgsqlConnection(ConnectionString(connection));
                await c.OpenAsync();
                open.Add(c);
            }

            var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<int>(connection, "SELECT 1"));
            Assert.Equal("53300", error.SqlState);
        }
        finally
        {
            foreach (var c in open)
            {
                await c.DisposeAsync();
            }
        }

        Assert.Equal(1, await ScalarAsync<int>(connection, "SELECT 1"));
    }

    [Fact]
    public async Task ATempFileExplosionStopsAtTheLimit()
    {
        var id = Guid.NewGuid();
        _instances.Add(id);
        var connection = await _runtime.CreateAsync(id, new InstanceLimits(TempFileLimitBytes: 1024 * 1024, WorkMemKilobytes: 64, StatementTimeout: TimeSpan.FromSeconds(20)), CancellationToken.None);

        var error = await Assert.ThrowsAsync<PostgresException>(() =>
            ScalarAsync<long>(connection, "SELECT count(*) FROM (SELECT g, md5(g::text) FROM generate_series(1, 300000) g ORDER BY 2) s"));

        Assert.Equal("53400", error.SqlState);
        Assert.Equal(1, await ScalarAsync<int>(connection, "SELECT 1"));
    }

    [Fact]
    public async Task AnInstanceIsReachedOnlyThroughItsOwnPrivateSocket()
    {
        var first = await CreateAsync();
        var second = await CreateAsync();

        Assert.NotEqual(first.Host, second.Host);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(first.Host));
        Assert.Equal("", await ScalarAsync<string>(first, "SHOW listen_addresses"));
        // No TCP port: nothing on the machine reaches the instance that way.
        using var tcp = new System.Net.Sockets.TcpClient();
        await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => tcp.ConnectAsync("127.0.0.1", first.Port));
        if (OsUser.CurrentIsRoot)
        {
            // Another account of the machine cannot enter the socket's folder.
            var stranger = await ProcessRunner.RunAsync(
                Path.Combine(PostgresBinaries.Locate(null).BinDirectory, "psql"),
                ["-h", first.Host, "-p", first.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "student", "-d", "workspace", "-Atc", "SELECT 1"],
                OsUser.Find("nobody"), TimeSpan.FromSeconds(30), CancellationToken.None);
            Assert.NotEqual(0, stranger.ExitCode);
            Assert.Contains("Permission denied", stranger.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ACapturedStateRestoresIntoAnotherInstance()
    {
        var first = await CreateAsync();
        await ExecuteAsync(first, "CREATE TABLE shared (id int); INSERT INTO shared SELECT generate_series(1, 500);");
        var key = EngineIdentity.PostgreSql(15).Root.Next("create table shared(id int)");
        var layer = await (await _runtime.CaptureAsync(_instances[0], key, null, Limits, CancellationToken.None)).Published;
        var second = await CreateAsync();

        await _runtime.RestoreAsync(_instances[1], key, Limits, CancellationToken.None);

        Assert.True(_runtime.HasLayer(key));
        Assert.True(layer.SizeBytes > 1_000_000);
        Assert.Equal(500L, await ScalarAsync<long>(second, "SELECT count(*) FROM shared"));
        // The layer's own pg_hba.conf is not what lets students in: the second instance keeps its socket.
        Assert.Equal("", await ScalarAsync<string>(second, "SHOW listen_addresses"));
        // The first instance goes on after its capture.
        Assert.Equal(500L, await ScalarAsync<long>(first, "SELECT count(*) FROM shared"));
    }

    [Fact]
    public async Task ADamagedLayerLeavesTheInstanceAsItWas()
    {
        var connection = await CreateAsync();
        await ExecuteAsync(connection, "CREATE TABLE before_restore (id int);");
        var key = EngineIdentity.PostgreSql(15).Root.Next("select 'damaged'");
        await _runtime.CaptureAsync(_instances[0], key, null, Limits, CancellationToken.None);
        var file = Directory.EnumerateFiles(Path.Combine(_root, "layers", "layers", key.ToString(), "data"), "PG_VERSION").Single();
        await File.WriteAllTextAsync(file, "99\n");

        await Assert.ThrowsAsync<SnapshotDamagedException>(() => _runtime.RestoreAsync(_instances[0], key, Limits, CancellationToken.None));

        Assert.False(_runtime.HasLayer(key));
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM before_restore"));
    }

    [Fact]
    public async Task AStoppedInstanceComesBackWithItsDataAndADeletedOneIsGone()
    {
        var connection = await CreateAsync();
        await ExecuteAsync(connection, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (7);");
        var id = _instances[0];

        await _runtime.StopAsync(id, CancellationToken.None);
        Assert.False(await _runtime.IsRunningAsync(id, CancellationToken.None));
        var again = await _runtime.StartAsync(id, Limits, CancellationToken.None);

        Assert.Equal(7, await ScalarAsync<int>(again, "SELECT id FROM kept"));
        await _runtime.DeleteAsync(id, CancellationToken.None);
        Assert.False(Directory.Exists(Path.Combine(_root, "i", id.ToString("N"))));
        Assert.False(await _runtime.IsRunningAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task ARewindToALayerWithAStandbyServerSwitchesToItWithTheLayersStateAndStartsNothing()
    {
        var (id, key, connection, standby) = await LayerWithAStandbyServerAsync("CREATE TABLE t (id int); INSERT INTO t VALUES (1);", "INSERT INTO t VALUES (2), (3);");
        var rewound = DateTimeOffset.UtcNow;

        await _runtime.RestoreAsync(id, key, Limits, CancellationToken.None);

        var restored = await _runtime.StartAsync(id, Limits, CancellationToken.None);
        Assert.Equal(1L, await ScalarAsync<long>(restored, "SELECT count(*) FROM t"));
        Assert.Equal(standby.Pid, Postmaster(id, DataDirectory(id))?.Pid);
        Assert.True(await ScalarAsync<DateTime>(restored, "SELECT pg_postmaster_start_time()") < rewound.UtcDateTime, "the server was started before the rewind");
        Assert.NotEqual(connection.Port, restored.Port);
        // Started as the instance's own server is: the plan's limits, the private socket only.
        Assert.Equal("", await ScalarAsync<string>(restored, "SHOW listen_addresses"));
        Assert.Equal("7", await ScalarAsync<string>(restored, "SHOW max_connections"));
        Assert.Equal("2s", await ScalarAsync<string>(restored, "SHOW statement_timeout"));

        // The switched-to server works where it runs: a capture's checkpoint and snapshot (or stop and copy), a restart.
        await ExecuteAsync(restored, "INSERT INTO t SELECT generate_series(10, 20000);");
        var later = key.Next("insert into t select generate_series(10, 20000)");
        await (await _runtime.CaptureAsync(id, later, key, Limits, CancellationToken.None)).Published;
        restored = await _runtime.StartAsync(id, Limits, CancellationToken.None);
        Assert.Equal(19992L, await ScalarAsync<long>(restored, "SELECT count(*) FROM t"));

        // The next rewind (to the layer just taken) finds another standby server, and leaves no other server behind.
        await ExecuteAsync(restored, "DELETE FROM t;");
        var next = await StandbyServerAsync(id);
        Assert.NotEqual(standby.Pid, next.Pid);
        await _runtime.RestoreAsync(id, later, Limits, CancellationToken.None);
        Assert.Equal(19992L, await ScalarAsync<long>(await _runtime.StartAsync(id, Limits, CancellationToken.None), "SELECT count(*) FROM t"));
        Assert.Equal(next.Pid, Postmaster(id, DataDirectory(id))?.Pid);
        Assert.True(await GoneAsync(standby.Pid), "the server rewound from is stopped");

        // An app started again finds the instance where its server runs.
        var again = Runtime(_runtime.Root, _runtime.Layers);
        Assert.Equal(19992L, await ScalarAsync<long>(await again.StartAsync(id, Limits, CancellationToken.None), "SELECT count(*) FROM t"));
        await _runtime.StopAsync(id, CancellationToken.None);
        Assert.True(await GoneAsync(next.Pid), "the instance's server stopped");
        Assert.Equal(19992L, await ScalarAsync<long>(await _runtime.StartAsync(id, Limits, CancellationToken.None), "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task AStoppedInstanceStopsItsStandbyServerAndKeepsItsCopy()
    {
        var (id, key, _, standby) = await LayerWithAStandbyServerAsync("CREATE TABLE t (id int);", "INSERT INTO t VALUES (1);");

        await _runtime.StopAsync(id, CancellationToken.None);

        Assert.True(await GoneAsync(standby.Pid), "the standby server stops with its instance");
        await _runtime.StartAsync(id, Limits, CancellationToken.None);
        await _runtime.RestoreAsync(id, key, Limits, CancellationToken.None);
        Assert.Equal(0L, await ScalarAsync<long>(await _runtime.StartAsync(id, Limits, CancellationToken.None), "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task WithNoStandbyServerToSpareARewindStartsPostgresOnTheCopy()
    {
        var none = Runtime(Path.Combine(_root, "j"), _runtime.Layers, standbyServers: 0);
        var id = Guid.NewGuid();
        var connection = await none.CreateAsync(id, Limits, CancellationToken.None);
        try
        {
            await ExecuteAsync(connection, "CREATE TABLE t (id int);");
            var key = EngineIdentity.PostgreSql(15).Root.Next("create table t(id int) -- none to spare");
            await (await none.CaptureAsync(id, key, null, Limits, CancellationToken.None)).Published;
            await ExecuteAsync(connection, "INSERT INTO t VALUES (1);");

            // The copy is made a second after the capture (a copy of the whole directory on ext4: slower on a busy machine).
            var standby = Path.Combine(none.Root, id.ToString("N"), "standby");
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(standby, "PG_VERSION")) && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }

            Assert.True(File.Exists(Path.Combine(standby, "PG_VERSION")), "the copy is made");
            await Task.Delay(TimeSpan.FromSeconds(1));
            var pidFile = Path.Combine(standby, "postmaster.pid");
            Assert.False(File.Exists(pidFile) && IsAlive(int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture)), "no server on it");
            await none.RestoreAsync(id, key, Limits, CancellationToken.None);
            Assert.Equal(0L, await ScalarAsync<long>(await none.StartAsync(id, Limits, CancellationToken.None), "SELECT count(*) FROM t"));
        }
        finally
        {
            await none.DeleteAsync(id, CancellationToken.None);
        }
    }

    private static LocalInstanceRuntime Runtime(string root, LayerStore layers, int? standbyServers = null) =>
        new(root, PostgresBinaries.Locate(null), OsUser.ForPostgres(null), layers, EngineIdentity.PostgreSql(PostgresBinaries.Locate(null).MajorVersion),
            NullLogger<LocalInstanceRuntime>.Instance, standbyServers: standbyServers);

    /// <summary>
    /// A new instance where <paramref name="layered"/> ran and was captured as a layer, then <paramref name="after"/>
    /// ran: its standby server, once ready, holds the layer.
    /// </summary>
    private async Task<(Guid Id, ChainKey Key, InstanceConnection Connection, (int Pid, int Port) Standby)> LayerWithAStandbyServerAsync(string layered, string after)
    {
        var connection = await CreateAsync();
        var id = _instances[^1];
        await ExecuteAsync(connection, layered);
        var key = EngineIdentity.PostgreSql(15).Root.Next(layered);
        await (await _runtime.CaptureAsync(id, key, null, Limits, CancellationToken.None)).Published;
        await ExecuteAsync(connection, after);
        return (id, key, connection, await StandbyServerAsync(id));
    }

    /// <summary>The standby server of an instance once it is ready (its copy is made a second after the run that restored or took the layer).</summary>
    private async Task<(int Pid, int Port)> StandbyServerAsync(Guid id)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (Postmaster(id, DataDirectory(id) == "pgdata" ? "standby" : "pgdata") is { Ready: true } server && IsAlive(server.Pid))
            {
                return (server.Pid, server.Port);
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No standby server for instance {id} within 30 s.");
    }

    /// <summary>Which of its two places is an instance's data directory now (the other holds its standby copy).</summary>
    private string DataDirectory(Guid id) =>
        File.Exists(Path.Combine(_runtime.Root, id.ToString("N"), "data-directory")) ? File.ReadAllText(Path.Combine(_runtime.Root, id.ToString("N"), "data-directory")) : "pgdata";

    /// <summary>What postmaster.pid in one of the instance's places (pgdata or standby) says, or null when there is none.</summary>
    private (int Pid, int Port, bool Ready)? Postmaster(Guid id, string directory)
    {
        var file = Path.Combine(_runtime.Root, id.ToString("N"), directory, "postmaster.pid");
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (IOException)
        {
            return null;
        }

        return lines.Length > 7 ? (int.Parse(lines[0], CultureInfo.InvariantCulture), int.Parse(lines[3], CultureInfo.InvariantCulture), lines[7].Trim() == "ready") : null;
    }

    /// <summary>Whether the process is gone within a few seconds (a postmaster removes its pid file a moment before it exits).</summary>
    private static async Task<bool> GoneAsync(int pid)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (IsAlive(pid) && waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20);
        }

        return !IsAlive(pid);
    }

    private static bool IsAlive(int pid) =>
        File.Exists($"/proc/{pid}/status") && !File.ReadLines($"/proc/{pid}/status").Any(l => l.StartsWith("State:", StringComparison.Ordinal) && l.Contains('Z', StringComparison.Ordinal));

    private async Task<InstanceConnection> CreateAsync()
    {
        var id = Guid.NewGuid();
        _instances.Add(id);
        return await _runtime.CreateAsync(id, Limits, CancellationToken.None);
    }

    private static async Task ExecuteAsync(InstanceConnection instance, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(instance));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(InstanceConnection instance, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(instance));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static string ConnectionString(InstanceConnection instance) =>
        Taidon.Infrastructure.Sql.NpgsqlSqlSessionFactory.ConnectionString(instance, "taidon-tests");
}
