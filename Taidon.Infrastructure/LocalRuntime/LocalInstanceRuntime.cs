using System.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Enumeration;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Npgsql;
using Taidon.Core.Instances;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime.Snapshots;
using Taidon.Infrastructure.Sql;

namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>
/// The embedded runtime: every instance is its own PostgreSQL cluster in <c>&lt;root&gt;/&lt;id&gt;</c>, run by
/// the unprivileged account, listening only on a Unix socket in a folder private to that account: the
/// student's sessions (one role, one database) and the platform's (the superuser) come through it, and
/// nothing else on the machine reaches it (no TCP port, so no password to guess or to hash at each login).
/// </summary>
/// <remarks>
/// Snapshot layers carry a whole data directory from one instance to another, so nothing that belongs
/// to one instance lives there: the port, limits, socket and who may connect (<c>hba_file</c>, beside the
/// data) are given on the command line at each start, so a start or a restore needs no connection of its
/// own. The base state (h_0) is itself a layer, so a new instance is a copy, not an initdb.
/// </remarks>
public sealed class LocalInstanceRuntime(
    string root,
    PostgresBinaries binaries,
    OsUser? owner,
    LayerStore layers,
    EngineIdentity engine,
    ILogger<LocalInstanceRuntime> logger,
    InstanceCgroups? cgroups = null,
    int? standbyServers = null) : IInstanceRuntime
{
    /// <summary>Standby servers in the installation when no setting says (<c>Taidon:Instances:StandbyServers</c>): four per core.</summary>
    public static int DefaultStandbyServers => Environment.ProcessorCount * 4;

    public const string StudentRole = "student";
    public const string Database = "workspace";

    private static readonly SemaphoreSlim BaseLock = new(1, 1);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, Standby> _standbys = new();

    private readonly int _maxStandbyServers = standbyServers ?? DefaultStandbyServers;

    /// <summary>Standby servers running or starting now (bounded by <see cref="_maxStandbyServers"/>).</summary>
    private int _standbyServers;

    /// <summary>Each instance's data directories thrown away by a restore and being removed in the background (a deletion waits for them).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, Task> _discarding = new();

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The snapshot layers this runtime restores from and captures into.</summary>
    public LayerStore Layers => layers;

    public async Task<InstanceConnection> CreateAsync(Guid instanceId, InstanceLimits limits, CancellationToken cancellationToken)
    {
        var cluster = Cluster(instanceId);
        if (Directory.Exists(cluster.Root))
        {
            throw new InvalidOperationException($"The instance {instanceId} exists already.");
        }

        await EnsureBaseLayerAsync(cancellationToken);
        PrepareInstanceDirectory(cluster.Root);
        await layers.RestoreAsync(engine.Root, cluster.DataDirectory, cancellationToken);
        logger.LogInformation("Created instance {InstanceId} from the base state", instanceId);
        return await StartAsync(instanceId, limits, cancellationToken);
    }

    public async Task<InstanceConnection> StartAsync(Guid instanceId, InstanceLimits limits, CancellationToken cancellationToken)
    {
        var cluster = ExistingCluster(instanceId);
        var port = await cluster.GetRunningPortAsync(cancellationToken);
        if (port is not null)
        {
            if (File.Exists(HostBasedAuthenticationFile(instanceId)))
            {
                // Running: its limits were set when it started.
                return Student(instanceId, port.Value);
            }

            // Started by an earlier version, which let the student in over TCP with a password: started again on the private socket.
            await cluster.StopAsync(cancellationToken);
        }

        // A postmaster that died (SIGKILL, OOM) leaves its socket's lock file behind: the private socket directory is ours to clear.
        EnsureSocketDirectory(instanceId);
        foreach (var stale in Directory.EnumerateFiles(SocketDirectory(instanceId)))
        {
            File.Delete(stale);
        }

        await WriteHostBasedAuthenticationAsync(instanceId, cancellationToken);
        port = await cluster.StartAsync(await StablePortAsync(cluster, cancellationToken), cancellationToken, Settings(instanceId, limits));
        if (cgroups is not null && cluster.PostmasterPid is { } pid)
        {
            cgroups.Apply(instanceId, pid, limits);
        }

        return Student(instanceId, port.Value);
    }

    /// <summary>
    /// The student's way in: the private socket, no password (only the instance's account and root can
    /// enter its folder). The student's connections are bounded by <c>max_connections</c>, the superuser's
    /// reserved slots aside, whatever role a layer carried.
    /// </summary>
    private InstanceConnection Student(Guid instanceId, int port) => new(SocketDirectory(instanceId), port, Database, StudentRole, "");

    public async Task StopAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        var cluster = Cluster(instanceId);
        if (cluster.IsInitialized)
        {
            // A stopped instance keeps its standby copy (its next run may rewind to it), not the server on it.
            if (_standbys.TryGetValue(instanceId, out var standby))
            {
                await standby.StopServerAsync(this);
            }

            await cluster.StopAsync(cancellationToken);
        }
    }

    public async Task DeleteAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        var cluster = Cluster(instanceId);
        if (!Directory.Exists(cluster.Root))
        {
            return;
        }

        await DiscardStandbyAsync(instanceId);
        if (_discarding.TryRemove(instanceId, out var discarding))
        {
            // A restore's old data is still being removed inside the instance's folder: the folder goes after it.
            await discarding;
        }

        await cluster.StopAsync(cancellationToken, discard: true);
        await layers.Driver.DeleteAsync(cluster.DataDirectory, cancellationToken);

        // A standby copy this app does not know of (an app that stopped without stopping its server left it).
        var standby = StandbyCluster(instanceId);
        await standby.StopAsync(cancellationToken, discard: true);
        await layers.Driver.DeleteAsync(standby.DataDirectory, cancellationToken);
        Directory.Delete(cluster.Root, recursive: true);
        RemoveSocketDirectory(instanceId);
        // Instances made before the private socket kept a password here.
        if (File.Exists(PasswordFile(instanceId)))
        {
            File.Delete(PasswordFile(instanceId));
        }

        cgroups?.Remove(instanceId);
        _dataDirectoryNames.TryRemove(instanceId, out _);
        logger.LogInformation("Deleted instance {InstanceId}", instanceId);
    }

    public async Task<bool> IsRunningAsync(Guid instanceId, CancellationToken cancellationToken) =>
        await Cluster(instanceId).GetRunningPortAsync(cancellationToken) is not null;

    public bool HasLayer(ChainKey key) => layers.Contains(key);

    ISnapshotLayers IInstanceRuntime.Layers => layers;

    /// <summary>The instances' folders; the folder's last change stands for its age (a folder being made is young).</summary>
    public Task<IReadOnlyCollection<RuntimeInstance>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyCollection<RuntimeInstance>>(
            [.. InstanceIds().Select(id => new RuntimeInstance(id, new DateTimeOffset(Directory.GetLastWriteTimeUtc(Cluster(id).Root), TimeSpan.Zero)))]);

    /// <summary>The instances that have a folder under the root.</summary>
    private IEnumerable<Guid> InstanceIds() => !Directory.Exists(Root)
        ? []
        : Directory.EnumerateDirectories(Root)
            .Select(d => Guid.TryParseExact(Path.GetFileName(d), "N", out var id) ? id : Guid.Empty)
            .Where(id => id != Guid.Empty);

    private readonly ConcurrentDictionary<Guid, (long Bytes, long At)> _diskUse = new();

    /// <summary>The instance's folder on disk (data, its standby copy, logs), measured at most once a minute.</summary>
    public Task<InstanceUsage?> UsageAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        var cluster = Cluster(instanceId);
        if (!Directory.Exists(cluster.Root))
        {
            return Task.FromResult<InstanceUsage?>(null);
        }

        var now = Environment.TickCount64;
        if (!_diskUse.TryGetValue(instanceId, out var measured) || now - measured.At > 60_000)
        {
            measured = _diskUse[instanceId] = (DiskBytes(instanceId), now);
        }

        return Task.FromResult<InstanceUsage?>(new InstanceUsage(measured.Bytes, cluster.IsRunning));
    }

    /// <summary>What the instance's files take on disk now: all of them, or only its data directory (with its WAL), which the student's statements grow.</summary>
    internal long DiskBytes(Guid instanceId, bool dataOnly = false)
    {
        var root = dataOnly ? Cluster(instanceId).DataDirectory : Cluster(instanceId).Root;
        if (!Directory.Exists(root))
        {
            return 0;
        }

        // Each file's size as the walk found it: a file that goes away while it is counted (a checkpoint recycles
        // WAL segments many times a second under a load) counts nothing, rather than failing the whole measure,
        // which left the storage guard blind for as long as a statement kept writing.
        var sizes = new FileSystemEnumerable<long>(root, (ref FileSystemEntry entry) => entry.Length,
            new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint })
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory,
        };
        return sizes.Sum();
    }

    /// <summary>Cancels what the student's sessions are running (the storage guard's stop), over the superuser's private socket.</summary>
    internal async Task CancelStudentStatementsAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        await using var platform = await OpenPlatformConnectionAsync(instanceId, cancellationToken);
        await using var cancel = new NpgsqlCommand(
            $"SELECT pg_catalog.pg_cancel_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename OPERATOR(pg_catalog.=) '{StudentRole}'", platform.Connection);
        await cancel.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>How many instances have a live postmaster (for the active-instances gauge).</summary>
    public long? StorageCapacityBytes => Directory.Exists(root) ? new DriveInfo(root).TotalSize : null;

    public long? StorageUsedBytes
    {
        get
        {
            if (!Directory.Exists(root))
            {
                return null;
            }

            var drive = new DriveInfo(root);
            return drive.TotalSize - drive.TotalFreeSpace;
        }
    }

    public int CountRunning() => InstanceIds().Count(id => Cluster(id).IsRunning);

    public async Task<LayerCapture> CaptureAsync(Guid instanceId, ChainKey key, ChainKey? parent, InstanceLimits limits, CancellationToken cancellationToken)
    {
        var cluster = ExistingCluster(instanceId);
        if (cluster.IsRunning && await layers.Driver.SnapshotsLiveAsync(cluster.DataDirectory, cancellationToken))
        {
            // An atomic snapshot of the running cluster: the student's session goes on untouched. The checkpoint
            // first leaves next to nothing for the copy's recovery when a restore starts it.
            // In the student's database: a server's first connection to a database builds its catalog caches'
            // files (30-40 ms), and the student's session (or the standby server's warm-up) has already done that
            // for this one. The student owns it, so the settings they may give it are overridden.
            await using (var platform = await OpenPlatformConnectionAsync(instanceId, cancellationToken, Database))
            {
                await using var checkpoint = new NpgsqlCommand("CHECKPOINT", platform.Connection);
                await checkpoint.ExecuteNonQueryAsync(cancellationToken);
            }

            // Only the snapshot is on the run's time; the layer is sealed, listed and made visible while the run goes on.
            var published = await layers.BeginPublishAsync(key, parent, cluster.DataDirectory, cancellationToken);
            PrepareStandby(instanceId, key, limits, published);
            return new LayerCapture(published, SessionsKept: true);
        }

        // A stopped cluster is a consistent one: the copy needs no recovery when it starts.
        await StopAsync(instanceId, cancellationToken);
        SnapshotLayer layer;
        try
        {
            layer = await layers.PublishAsync(key, parent, cluster.DataDirectory, cancellationToken);
        }
        finally
        {
            await StartAsync(instanceId, limits, cancellationToken);
        }

        PrepareStandby(instanceId, key, limits);
        return LayerCapture.Done(layer, sessionsKept: false);
    }

    public async Task RestoreAsync(Guid instanceId, ChainKey key, InstanceLimits limits, CancellationToken cancellationToken)
    {
        var cluster = ExistingCluster(instanceId);
        var standby = await TakeStandbyAsync(instanceId, key, limits);
        var incoming = standby?.Path;
        if (incoming is null)
        {
            // The layer is checked and copied beside the current data first: a damaged layer leaves the instance as it was.
            incoming = cluster.DataDirectory + ".restoring";
            await layers.Driver.DeleteAsync(incoming, cancellationToken);
            await layers.RestoreAsync(key, incoming, cancellationToken);
        }

        // The current state is thrown away: no shutdown checkpoint is needed.
        await cluster.StopAsync(cancellationToken, discard: true);
        var outgoing = $"{cluster.DataDirectory}.discarded-{Guid.NewGuid():N}";
        Directory.Move(cluster.DataDirectory, outgoing);
        if (standby?.Serving is true)
        {
            // The standby server is the instance's from here on, where it runs, on its own port in the instance's
            // socket folder (the next StartAsync reads it from its pid file). Nobody has connected to it as the
            // student: its state is the layer's.
            SwapDataDirectories(instanceId);
            ReleaseStandbyServer();
            logger.LogDebug("Instance {InstanceId} switched to its standby server on layer {Key}", instanceId, key.Short);
        }
        else
        {
            Directory.Move(incoming, cluster.DataDirectory);
            await StartAsync(instanceId, limits, cancellationToken);
        }

        var discard = Task.Run(async () =>
        {
            try
            {
                await layers.Driver.DeleteAsync(outgoing, CancellationToken.None);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(e, "Could not remove {Directory}, the state a restore of instance {InstanceId} replaced", outgoing, instanceId);
            }
        });
        _ = _discarding.AddOrUpdate(instanceId, discard, (_, earlier) => Task.WhenAll(earlier, discard));

        // A student who edits and reruns comes back to this layer next: its copy is made while they type.
        PrepareStandby(instanceId, key, limits);
    }

    /// <summary>
    /// An instance keeps a standby copy of the layer it last restored or took, made and checked against
    /// the manifest in the background, so the next rewind to it is a rename: neither the copy nor the
    /// checksums are on the student's time. (With btrfs the copy is a snapshot sharing its blocks.) While the
    /// installation has standby servers to spare, PostgreSQL is started on the copy too, so that the rewind
    /// starts nothing either.
    /// </summary>
    private void PrepareStandby(Guid instanceId, ChainKey key, InstanceLimits limits, Task? published = null)
    {
        var standby = _standbys.AddOrUpdate(
            instanceId,
            _ => Standby.Start(instanceId, key, limits, this, logger, published ?? Task.CompletedTask),
            (_, existing) => existing.Key == key && existing.Limits == limits && !existing.Ready.IsFaulted
                ? existing
                : existing.Replace(instanceId, key, limits, this, logger, published));
        _ = standby.Ready;
    }

    /// <summary>The standby copy when it holds <paramref name="key"/> (waiting for it to be finished), else null.</summary>
    private async Task<Standby?> TakeStandbyAsync(Guid instanceId, ChainKey key, InstanceLimits limits)
    {
        if (!_standbys.TryRemove(instanceId, out var standby))
        {
            return null;
        }

        if (standby.Key != key)
        {
            await standby.DiscardAsync(this);
            return null;
        }

        try
        {
            // Waiting for a copy under way costs less than starting another; one not begun yet begins now.
            standby.Hurry();
            await standby.Ready;
            if (standby.Serving && (standby.Limits != limits || !standby.Cluster.IsRunning))
            {
                // Started for other limits (the plan changed), or it died: the copy is used and started as any.
                await standby.StopServerAsync(this);
            }

            return standby;
        }
        catch (SnapshotDamagedException)
        {
            await standby.DiscardAsync(this);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A damaged layer is reported as such (it is gone, the run plans again); any other failure falls back to a copy.
            logger.LogWarning(e, "The standby copy of layer {Key} failed; copying the layer instead", key.Short);
            await standby.DiscardAsync(this);
            return null;
        }
    }

    private async Task DiscardStandbyAsync(Guid instanceId)
    {
        if (_standbys.TryRemove(instanceId, out var standby))
        {
            await standby.DiscardAsync(this);
        }
    }

    /// <summary>The cluster of an instance's standby copy (the place that is not its data directory), logging where the instance logs.</summary>
    private PostgresCluster StandbyCluster(Guid instanceId) => Cluster(instanceId, StandbyDirectoryName(instanceId));

    private bool TryTakeStandbyServer()
    {
        if (Interlocked.Increment(ref _standbyServers) <= _maxStandbyServers)
        {
            return true;
        }

        Interlocked.Decrement(ref _standbyServers);
        return false;
    }

    private void ReleaseStandbyServer() => Interlocked.Decrement(ref _standbyServers);

    /// <summary>
    /// Starts PostgreSQL on a finished standby copy, as the instance's server would start (its settings, its
    /// control group), on a port of its own in the instance's socket folder: one beside the running server's,
    /// which is the only other socket there. False (and nothing started) when the instance is not running or
    /// the installation has no standby server to spare.
    /// </summary>
    private async Task<bool> StartStandbyServerAsync(Guid instanceId, PostgresCluster standby, InstanceLimits limits, CancellationToken cancellationToken)
    {
        if (await Cluster(instanceId).GetRunningPortAsync(cancellationToken) is not { } running || !TryTakeStandbyServer())
        {
            return false;
        }

        try
        {
            var port = running == 65535 ? running - 1 : running + 1;
            await standby.StartAsync(port, cancellationToken, Settings(instanceId, limits));
            if (cgroups is not null && standby.PostmasterPid is { } pid)
            {
                cgroups.Apply(instanceId, pid, limits);
            }

            // A started server's first connection to a database builds its catalog caches' files (the start
            // removes them): one connection here, which reads nothing of the student's and writes nothing,
            // takes that off the rewind's first session.
            await using var warm = await OneOffConnection.OpenAsync(PlatformConnectionString(instanceId, port, Database), cancellationToken);

            return true;
        }
        catch
        {
            ReleaseStandbyServer();
            await standby.StopAsync(CancellationToken.None, discard: true);
            throw;
        }
    }

    /// <summary>A copy of a layer being made (or made) for one instance, and the standby server started on it when there is one.</summary>
    private sealed class Standby
    {
        private static readonly TimeSpan StandbyDelay = TimeSpan.FromSeconds(1);

        private readonly CancellationTokenSource _cancel = new();
        private readonly TaskCompletionSource _hurry = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Standby(ChainKey key, InstanceLimits limits, PostgresCluster cluster)
        {
            Key = key;
            Limits = limits;
            Cluster = cluster;
        }

        public ChainKey Key { get; }

        /// <summary>The limits its server was (or would be) started with.</summary>
        public InstanceLimits Limits { get; }

        public PostgresCluster Cluster { get; }

        public string Path => Cluster.DataDirectory;

        public Task Ready { get; private set; } = Task.CompletedTask;

        /// <summary>Whether a standby server runs on the copy (it holds one of the installation's standby servers).</summary>
        public bool Serving { get; private set; }

        /// <summary>The copy is wanted now: the wait for the run to end is cut short, and no server is started (a rewind starts one anyway).</summary>
        public void Hurry() => _hurry.TrySetResult();

        /// <summary>A standby for another key: the old copy is stopped and removed first (and the layer finished, when it is being published).</summary>
        public Standby Replace(Guid instanceId, ChainKey key, InstanceLimits limits, LocalInstanceRuntime runtime, ILogger logger, Task? published) =>
            Start(instanceId, key, limits, runtime, logger, published is null ? DiscardAsync(runtime) : Task.WhenAll(DiscardAsync(runtime), published));

        public async Task StopServerAsync(LocalInstanceRuntime runtime)
        {
            // A server not started yet is not started at all; one starting is waited for.
            Hurry();
            try
            {
                await Ready;
            }
            catch
            {
                // A copy that failed has no server.
            }

            if (Serving)
            {
                Serving = false;
                runtime.ReleaseStandbyServer();
                await Cluster.StopAsync(CancellationToken.None);
            }
        }

        public async Task DiscardAsync(LocalInstanceRuntime runtime)
        {
            await _cancel.CancelAsync();
            await StopServerAsync(runtime);
            await runtime.Layers.Driver.DeleteAsync(Path, CancellationToken.None);
        }

        /// <summary>A copy of the layer made once <paramref name="before"/> is done (the old copy removed, the layer published).</summary>
        /// <remarks>The copy goes to the instance's place that is not its data directory now (<see cref="StandbyCluster"/>).</remarks>
        public static Standby Start(Guid instanceId, ChainKey key, InstanceLimits limits, LocalInstanceRuntime runtime, ILogger logger, Task before)
        {
            var cluster = runtime.StandbyCluster(instanceId);
            var standby = new Standby(key, limits, cluster);
            standby.Ready = Task.Run(async () =>
            {
                await before;

                // The run that restored or took the layer goes on now: the copy waits until it is likely done.
                await Task.WhenAny(Task.Delay(StandbyDelay, standby._cancel.Token), standby._hurry.Task);
                standby._cancel.Token.ThrowIfCancellationRequested();

                // A server left on an old copy (by an app that stopped without stopping it) goes first.
                await cluster.StopAsync(CancellationToken.None, discard: true);
                await runtime.Layers.Driver.DeleteAsync(cluster.DataDirectory, CancellationToken.None);
                await runtime.Layers.RestoreAsync(key, cluster.DataDirectory, standby._cancel.Token);
                if (!standby._hurry.Task.IsCompleted)
                {
                    standby.Serving = await runtime.StartStandbyServerAsync(instanceId, cluster, limits, standby._cancel.Token);
                }

                logger.LogDebug("Standby copy of layer {Key} ready in {Path}{Server}", key.Short, cluster.DataDirectory, standby.Serving ? ", its server started" : "");
            });
            return standby;
        }
    }

    /// <summary>The base state: initdb, the student role and its database, published as the layer h_0 (once).</summary>
    private async Task EnsureBaseLayerAsync(CancellationToken cancellationToken)
    {
        if (layers.Contains(engine.Root))
        {
            return;
        }

        await BaseLock.WaitAsync(cancellationToken);
        try
        {
            if (layers.Contains(engine.Root))
            {
                return;
            }

            var id = Guid.NewGuid();
            var cluster = Cluster(id);
            PrepareInstanceDirectory(cluster.Root);
            await layers.Driver.CreateEmptyAsync(cluster.DataDirectory, cancellationToken);
            try
            {
                await cluster.InitializeAsync(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)), BaseSettings, cancellationToken, walSegmentMegabytes: 1);
                await File.WriteAllTextAsync(Path.Combine(cluster.DataDirectory, "pg_hba.conf"), HostBasedAuthentication, cancellationToken);
                EnsureSocketDirectory(id);
                await WriteHostBasedAuthenticationAsync(id, cancellationToken);
                await cluster.StartAsync(null, cancellationToken, Settings(id, new InstanceLimits()));
                await using (var platform = await OpenPlatformConnectionAsync(id, cancellationToken))
                {
                    foreach (var sql in BaseStatements)
                    {
                        await using var command = new NpgsqlCommand(sql, platform.Connection);
                        await command.ExecuteNonQueryAsync(cancellationToken);
                    }
                }

                await cluster.StopAsync(cancellationToken);
                await layers.PublishAsync(engine.Root, null, cluster.DataDirectory, cancellationToken);
                logger.LogInformation("Published the base state {Key} for new instances", engine.Root.Short);
            }
            finally
            {
                await cluster.StopAsync(CancellationToken.None);
                await layers.Driver.DeleteAsync(cluster.DataDirectory, CancellationToken.None);
                Directory.Delete(cluster.Root, recursive: true);
                RemoveSocketDirectory(id);
            }
        }
        finally
        {
            BaseLock.Release();
        }
    }

    private static readonly string[] BaseStatements =
    [
        $"CREATE ROLE {StudentRole} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        $"CREATE DATABASE {Database} OWNER {StudentRole}",
        "REVOKE ALL ON DATABASE postgres FROM PUBLIC",
        "REVOKE ALL ON DATABASE template1 FROM PUBLIC",
    ];

    // The platform comes as the superuser, the student only into the working database; both through the
    // private socket (the cluster listens on nothing else).
    private const string HostBasedAuthentication = $"""
        # Written by Taidon.
        local   all          postgres                trust
        local   {Database}    {StudentRole}           trust
        """;

    /// <summary>Who may connect, beside the data (a layer's own pg_hba.conf is not read): written once per instance.</summary>
    private async Task WriteHostBasedAuthenticationAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        var file = HostBasedAuthenticationFile(instanceId);
        if (File.Exists(file))
        {
            return;
        }

        await File.WriteAllTextAsync(file, HostBasedAuthentication, cancellationToken);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        owner?.Own(file);
    }

    private string HostBasedAuthenticationFile(Guid instanceId) => Path.Combine(Root, instanceId.ToString("N"), "pg_hba.conf");

    // What every instance shares (it is in the layers): sandboxes are rebuilt from their chain, so durability is traded for speed.
    private static readonly Dictionary<string, string> BaseSettings = new()
    {
        ["shared_buffers"] = "16MB",
        ["fsync"] = "off",
        ["synchronous_commit"] = "off",
        ["full_page_writes"] = "off",
        ["log_min_messages"] = "warning",
        ["password_encryption"] = "scram-sha-256",

        // No background writers: autovacuum would change the database at moments no run chose (plans and
        // statistics would differ between reruns), and its transactions would make a read look like a change.
        ["autovacuum"] = "off",

        // Small WAL: a layer carries what pg_wal holds, so it keeps only what a restart needs.
        ["wal_level"] = "minimal",
        ["max_wal_senders"] = "0",
        ["min_wal_size"] = "2MB",
        ["max_wal_size"] = "64MB",
        ["wal_recycle"] = "off",
    };

    private Dictionary<string, string> Settings(Guid instanceId, InstanceLimits limits) => new()
    {
        ["listen_addresses"] = "",
        ["unix_socket_directories"] = SocketDirectory(instanceId),
        ["unix_socket_permissions"] = "0700",
        ["hba_file"] = HostBasedAuthenticationFile(instanceId),

        // No logical replication launcher: one process fewer at every start and restore.
        ["max_logical_replication_workers"] = "0",
        ["max_connections"] = (limits.MaxConnections + 3).ToString(CultureInfo.InvariantCulture),
        ["statement_timeout"] = ((long)limits.EffectiveStatementTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        ["idle_in_transaction_session_timeout"] = ((long)limits.EffectiveIdleInTransactionTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        ["temp_file_limit"] = (limits.TempFileLimitBytes / 1024).ToString(CultureInfo.InvariantCulture) + "kB",
        ["work_mem"] = limits.WorkMemKilobytes.ToString(CultureInfo.InvariantCulture) + "kB",

        // The server log keeps what an admin needs (a crash, a failed start), not what a student can repeat
        // at will: RAISE WARNING or LOG in a loop, or an error quoting an 8 MB statement.
        ["log_min_messages"] = "fatal",
        ["log_min_error_statement"] = "panic",
    };

    /// <summary>An instance starts on the same port each time, unless another process took it (a rewind to a standby server moves it to the standby's until the next start).</summary>
    private static async Task<int> StablePortAsync(PostgresCluster cluster, CancellationToken cancellationToken)
    {
        var file = Path.Combine(cluster.Root, "port");
        if (File.Exists(file) && int.TryParse(await File.ReadAllTextAsync(file, cancellationToken), NumberStyles.Integer, CultureInfo.InvariantCulture, out var kept) && IsFree(kept))
        {
            return kept;
        }

        var port = PostgresCluster.FindFreePort();
        await File.WriteAllTextAsync(file, port.ToString(CultureInfo.InvariantCulture), cancellationToken);
        return port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private async Task<OneOffConnection> OpenPlatformConnectionAsync(Guid instanceId, CancellationToken cancellationToken, string database = "postgres")
    {
        var port = await Cluster(instanceId).GetRunningPortAsync(cancellationToken)
            ?? throw new InvalidOperationException($"The instance {instanceId} is not running.");
        return await OneOffConnection.OpenAsync(PlatformConnectionString(instanceId, port, database), cancellationToken);
    }

    /// <summary>The superuser's way in, over the instance's private socket; settings the student gave a database they own do not apply.</summary>
    private string PlatformConnectionString(Guid instanceId, int port, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = SocketDirectory(instanceId),
        Port = port,
        Username = "postgres",
        Database = database,
        Pooling = false,
        Options = "-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0",
    }.ConnectionString;

    private void PrepareInstanceDirectory(string instanceRoot)
    {
        Directory.CreateDirectory(Root);
        File.SetUnixFileMode(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        Directory.CreateDirectory(instanceRoot);
        var run = Path.Combine(instanceRoot, "run");
        Directory.CreateDirectory(run);
        File.SetUnixFileMode(instanceRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(run, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        owner?.Own(instanceRoot);
    }

    /// <summary>
    /// How far below the app and the control plane instances are scheduled: when a class keeps every core
    /// busy, a page, a sign-in or a new guest is answered first and the students' statements take the rest
    /// (the machine does as much work; who waits changes).
    /// </summary>
    public const int InstanceNiceness = 10;

    private PostgresCluster Cluster(Guid instanceId) => Cluster(instanceId, DataDirectoryName(instanceId));

    /// <summary>The cluster whose data is in one of the instance's two places (<see cref="DataDirectoryNames"/>).</summary>
    private PostgresCluster Cluster(Guid instanceId, string place) =>
        new(binaries, Path.Combine(Root, instanceId.ToString("N")), owner, logger, InstanceNiceness, dataDirectoryName: place);

    /// <summary>
    /// The two places of an instance's data inside its folder: one is its data directory, the other holds the
    /// standby copy. A rewind that switches to a standby server swaps their roles (a running PostgreSQL cannot be
    /// moved: it opens pg_control by its absolute path), and says which is which in <see cref="DataDirectoryMarker"/>.
    /// </summary>
    private static readonly string[] DataDirectoryNames = ["pgdata", "standby"];

    private const string DataDirectoryMarker = "data-directory";

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, string> _dataDirectoryNames = new();

    private string DataDirectoryName(Guid instanceId) => _dataDirectoryNames.GetOrAdd(instanceId, id =>
    {
        var marker = Path.Combine(Root, id.ToString("N"), DataDirectoryMarker);
        return File.Exists(marker) && File.ReadAllText(marker).Trim() is var name && DataDirectoryNames.Contains(name) ? name : DataDirectoryNames[0];
    });

    private string StandbyDirectoryName(Guid instanceId) => DataDirectoryName(instanceId) == DataDirectoryNames[0] ? DataDirectoryNames[1] : DataDirectoryNames[0];

    /// <summary>The standby copy's place becomes the data directory (its server runs there), written so that a restarted app finds it.</summary>
    private void SwapDataDirectories(Guid instanceId)
    {
        var name = StandbyDirectoryName(instanceId);
        var marker = Path.Combine(Root, instanceId.ToString("N"), DataDirectoryMarker);
        File.WriteAllText(marker + ".new", name);
        File.Move(marker + ".new", marker, overwrite: true);
        _dataDirectoryNames[instanceId] = name;
    }

    private PostgresCluster ExistingCluster(Guid instanceId)
    {
        var cluster = Cluster(instanceId);
        return cluster.IsInitialized ? cluster : throw new InvalidOperationException($"There is no instance {instanceId}.");
    }

    /// <summary>
    /// Where an instance's Unix socket lives: beside its data, private to its account. A socket's path
    /// (the directory and <c>/.s.PGSQL.&lt;port&gt;</c>) must fit in 107 bytes, or PostgreSQL refuses to
    /// start: under a long data directory the sockets go to a short folder of this app's in the
    /// temporary directory instead (one per data directory, made again at each start).
    /// </summary>
    private string SocketDirectory(Guid instanceId)
    {
        var beside = Path.Combine(Root, instanceId.ToString("N"), "run");
        return beside.Length + "/.s.PGSQL.65535".Length <= MaxSocketPath
            ? beside
            : Path.Combine(ShortSocketRoot, instanceId.ToString("N"));
    }

    /// <summary>The short folder of this data directory's sockets in the temporary directory (its name hashed once).</summary>
    private string ShortSocketRoot => _shortSocketRoot ??=
        Path.Combine(Path.GetTempPath(), "taidon-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Root)))[..12]);

    private string? _shortSocketRoot;

    private const int MaxSocketPath = 107;

    /// <summary>Removes a socket folder outside the instance's own (one beside its data goes with it).</summary>
    private void RemoveSocketDirectory(Guid instanceId)
    {
        if (SocketDirectory(instanceId) is var sockets && Directory.Exists(sockets))
        {
            Directory.Delete(sockets, recursive: true);
        }
    }

    /// <summary>Makes a socket folder outside the instance's own (it may have gone with the temporary directory at a reboot).</summary>
    private void EnsureSocketDirectory(Guid instanceId)
    {
        var sockets = SocketDirectory(instanceId);
        if (Directory.Exists(sockets))
        {
            return;
        }

        var parent = Path.GetDirectoryName(sockets)!;
        Directory.CreateDirectory(parent);
        File.SetUnixFileMode(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        Directory.CreateDirectory(sockets);
        File.SetUnixFileMode(sockets, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        owner?.Own(sockets);
    }

    private string PasswordFile(Guid instanceId) => Path.Combine(Root, ".secrets", instanceId.ToString("N"));
}
