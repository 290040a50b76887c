using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>
/// One PostgreSQL cluster on this machine: its own data directory and postmaster, listening where its
/// settings say (made listening on 127.0.0.1 only, without a Unix socket; instances are started on a
/// private socket only), run by an unprivileged account when Taidon is root, at the
/// scheduling <paramref name="niceness"/> given (inherited by every backend it forks).
/// </summary>
/// <remarks>
/// Layout of <see cref="Root"/> (owned by the cluster's account, mode 0700):
/// <c>pgdata/</c> (the cluster) and <c>postgres.log</c>. The superuser password is kept by the caller.
/// </remarks>
public sealed class PostgresCluster(PostgresBinaries binaries, string root, OsUser? owner, ILogger logger, int niceness = 0, string dataDirectoryName = "pgdata")
{
    public const string Superuser = "postgres";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    public string Root { get; } = Path.GetFullPath(root);

    public string DataDirectory => Path.Combine(Root, dataDirectoryName);

    public string LogFile => Path.Combine(Root, "postgres.log");

    public PostgresBinaries Binaries => binaries;

    public bool IsInitialized => File.Exists(Path.Combine(DataDirectory, "PG_VERSION"));

    /// <summary>Creates the cluster with scram-sha-256 authentication for the superuser, unless it exists.</summary>
    public async Task InitializeAsync(string superuserPassword, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken, int? walSegmentMegabytes = null)
    {
        if (IsInitialized)
        {
            CheckVersion();
            return;
        }

        Directory.CreateDirectory(Root);
        File.SetUnixFileMode(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        owner?.Own(Root);
        await CheckReachableAsync(cancellationToken);

        // What an interrupted initdb left is removed; initdb wants an empty directory. The directory itself
        // stays: it may be a btrfs subvolume made for cheap snapshots.
        if (Directory.Exists(DataDirectory))
        {
            foreach (var entry in new DirectoryInfo(DataDirectory).EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo directory)
                {
                    directory.Delete(recursive: true);
                }
                else
                {
                    entry.Delete();
                }
            }

            File.SetUnixFileMode(DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            owner?.Own(DataDirectory);
        }

        var passwordFile = Path.Combine(Root, ".initdb-password");
        await File.WriteAllTextAsync(passwordFile, superuserPassword + "\n", cancellationToken);
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        owner?.Own(passwordFile);
        try
        {
            logger.LogInformation("Creating a PostgreSQL {Version} cluster in {DataDirectory}", binaries.MajorVersion, DataDirectory);
            var result = await ProcessRunner.RunAsync(
                binaries.InitDb,
                ["-D", DataDirectory, "-U", Superuser, "--auth=scram-sha-256", $"--pwfile={passwordFile}",
                 "--encoding=UTF8", "--no-locale", "--no-instructions",
                 .. walSegmentMegabytes is { } wal ? [$"--wal-segsize={wal.ToString(CultureInfo.InvariantCulture)}"] : Array.Empty<string>()],
                owner,
                CommandTimeout,
                cancellationToken);
            if (result.ExitCode != 0)
            {
                throw new PostgresClusterException($"initdb failed for {DataDirectory}: {result.Output}");
            }
        }
        finally
        {
            File.Delete(passwordFile);
        }

        var lines = new List<string> { "", "# Written by Taidon", "listen_addresses = '127.0.0.1'", "unix_socket_directories = ''" };
        lines.AddRange(settings.Select(s => $"{s.Key} = '{s.Value.Replace("'", "''", StringComparison.Ordinal)}'"));
        await File.AppendAllLinesAsync(Path.Combine(DataDirectory, "postgresql.conf"), lines, cancellationToken);
    }

    /// <summary>The port of the running postmaster, or null when the cluster is not running.</summary>
    public Task<int?> GetRunningPortAsync(CancellationToken cancellationToken) => Task.FromResult(RunningPort(cancellationToken));

    /// <summary>The live postmaster's process id, or null when the cluster is not running.</summary>
    public int? PostmasterPid => (IsInitialized ? ReadLivePidFile() : null) is { Length: > 0 } lines
        && int.TryParse(lines[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) ? pid : null;

    /// <summary>Whether a live postmaster runs this cluster (from its pid file and /proc, without pg_ctl).</summary>
    public bool IsRunning => RunningPort(CancellationToken.None) is not null;

    private int? RunningPort(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // Every run asks this: the pid file and /proc answer it without starting pg_ctl status.
        // postmaster.pid: pid, data directory, start time, port, socket directory, listen address, shmem key, status.
        var pidFile = IsInitialized ? ReadLivePidFile() : null;
        return pidFile is { Length: > 3 } && int.TryParse(pidFile[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) ? port : null;
    }

    /// <summary>
    /// Starts the postmaster on the given port (a free one when null) and waits until it accepts
    /// connections. <paramref name="settings"/> go on the command line, so they belong to this start and
    /// not to the data directory (which a snapshot layer may carry to another instance).
    /// </summary>
    public async Task<int> StartAsync(int? port, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? settings = null)
    {
        CheckVersion();
        ReadLivePidFile();
        var chosen = port ?? FindFreePort();
        List<string> arguments = ["-D", DataDirectory, "-p", chosen.ToString(CultureInfo.InvariantCulture)];
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            if (name.AsSpan().IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyz_") >= 0)
            {
                throw new ArgumentException($"The setting {name} = {value} cannot be passed on the command line.", nameof(settings));
            }

            arguments.Add("-c");
            arguments.Add($"{name}={value}");
        }

        RotateLog();

        // The postmaster itself, not pg_ctl: see ProcessRunner.StartServerAsync (which also waits for its end).
        var postmaster = await ProcessRunner.StartServerAsync(binaries.Postgres, arguments, owner, LogFile, niceness);
        if (!await WaitReadyAsync(postmaster, cancellationToken))
        {
            throw new PostgresClusterException($"PostgreSQL in {DataDirectory} did not start{(ExitCode(postmaster) is { } code ? $" (it exited with {code})" : "")}.\n{TailOfLog()}");
        }

        logger.LogInformation("PostgreSQL in {DataDirectory} is ready on port {Port}", DataDirectory, chosen);
        return chosen;
    }

    /// <summary>The most the log takes before a start moves it aside (one older log is kept).</summary>
    public const long MaxLogBytes = 4 * 1024 * 1024;

    /// <summary>Keeps the log within <see cref="MaxLogBytes"/> times two: a bigger one becomes postgres.log.1 at the next start.</summary>
    private void RotateLog()
    {
        var log = new FileInfo(LogFile);
        if (log.Exists && log.Length > MaxLogBytes)
        {
            log.MoveTo(LogFile + ".1", overwrite: true);
        }
    }

    /// <summary>
    /// Stops the postmaster. A fast shutdown rolls back open transactions and leaves a consistent data
    /// directory; <paramref name="discard"/> stops at once (immediate shutdown) when the data directory
    /// is about to be thrown away. Does nothing when it is not running. The signal is sent from here, as
    /// <c>pg_ctl stop</c> would send it: a restore costs no process for it.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken, bool discard = false)
    {
        if (!IsInitialized || PostmasterPid is not { } pid)
        {
            return;
        }

        try
        {
            // False: it died between the look at its pid file and the signal.
            LinuxCalls.Signal(pid, discard ? LinuxCalls.SignalQuit : LinuxCalls.SignalInterrupt);
        }
        catch (IOException e)
        {
            throw new PostgresClusterException($"PostgreSQL in {DataDirectory} did not stop: {e.Message}");
        }

        if (!await PollAsync(lines => lines is null, appearWithin: null, cancellationToken))
        {
            throw new PostgresClusterException($"PostgreSQL in {DataDirectory} did not stop within {CommandTimeout.TotalSeconds:0} s.\n{TailOfLog()}");
        }

        logger.LogInformation("PostgreSQL in {DataDirectory} stopped", DataDirectory);
    }

    /// <summary>
    /// Waits until the postmaster just started writes "ready" in its pid file (true), or exits, or the command
    /// timeout passes (false). Each look reads the pid file only: the process says whether it still lives.
    /// </summary>
    private async Task<bool> WaitReadyAsync(Process postmaster, CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < CommandTimeout && !HasExited(postmaster))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(pidFile);
            }
            catch (IOException)
            {
                lines = [];
            }

            // A pid file left by another postmaster names another process; the one just started replaces it.
            if (lines is { Length: > 7 } && lines[0].Trim() == postmaster.Id.ToString(CultureInfo.InvariantCulture) && lines[7].Trim() == "ready")
            {
                return true;
            }

            await Task.Delay(PollInterval, cancellationToken);
        }

        return false;
    }

    /// <summary>Whether the postmaster started has exited: one that exits at once is reaped (and its Process disposed) by ProcessRunner.</summary>
    private static bool HasExited(Process postmaster)
    {
        try
        {
            return postmaster.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static int? ExitCode(Process postmaster)
    {
        try
        {
            return postmaster.HasExited ? postmaster.ExitCode : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// Looks at the live pid file every few milliseconds until <paramref name="done"/> holds (true) or
    /// the command timeout passes (false). With <paramref name="appearWithin"/>, a pid file that has
    /// not appeared by then (the postmaster failed to start) ends the wait too (false).
    /// </summary>
    private async Task<bool> PollAsync(Func<string[]?, bool> done, TimeSpan? appearWithin, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var seen = false;
        while (Stopwatch.GetElapsedTime(started) < CommandTimeout)
        {
            var lines = ReadLivePidFile();
            if (done(lines))
            {
                return true;
            }

            if (appearWithin is { } limit && (seen ? lines is null : Stopwatch.GetElapsedTime(started) > limit))
            {
                // It never appeared, or the postmaster gave up and went away.
                return false;
            }

            seen |= lines is not null;
            await Task.Delay(PollInterval, cancellationToken);
        }

        return false;
    }

    /// <summary>
    /// The lines of postmaster.pid when its postmaster lives, else null. A postmaster killed with SIGKILL
    /// leaves its pid file, and (where nothing reaps orphans) a zombie that pg_ctl takes for a live
    /// server: such a pid file is removed.
    /// </summary>
    private string[]? ReadLivePidFile()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        string[] lines;
        try
        {
            lines = File.ReadAllLines(pidFile);
        }
        catch (IOException)
        {
            return null;
        }

        if (lines.Length == 0 || !int.TryParse(lines[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }

        if (IsAlive(pid))
        {
            return lines;
        }

        if (!File.Exists(pidFile))
        {
            // It removed its pid file as it stopped, and was waited for while this looked.
            return null;
        }

        logger.LogWarning("PostgreSQL in {DataDirectory} died (process {Pid}); removing its stale pid file", DataDirectory, pid);
        File.Delete(pidFile);
        return null;
    }

    /// <summary>Whether a process lives (not a zombie); one this app started is waited for as soon as it ends, so its /proc entry may go at any moment.</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            return !File.ReadLines($"/proc/{pid}/status").Any(l => l.StartsWith("State:", StringComparison.Ordinal) && l.Contains("Z (zombie)", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static int FindFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void CheckVersion()
    {
        var version = File.ReadAllText(Path.Combine(DataDirectory, "PG_VERSION")).Trim();
        if (version != binaries.MajorVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw new PostgresClusterException(
                $"The cluster in {DataDirectory} was made by PostgreSQL {version}, but the programs found are PostgreSQL {binaries.MajorVersion} " +
                $"({binaries.BinDirectory}). Point Taidon:Postgres:BinDirectory at PostgreSQL {version}, or move the data directory away to start afresh.");
        }
    }

    private async Task CheckReachableAsync(CancellationToken cancellationToken)
    {
        if (owner is null)
        {
            return;
        }

        var probe = await ProcessRunner.RunAsync("test", ["-w", Root, "-a", "-x", Root], owner, CommandTimeout, cancellationToken);
        if (probe.ExitCode != 0)
        {
            throw new PostgresClusterException(
                $"PostgreSQL runs as the account '{owner.Name}', which cannot reach '{Root}' (a parent directory is private to its owner). " +
                "Choose a data directory outside a private home directory, such as /var/lib/taidon (setting Taidon:DataDirectory), or make its parents traversable.");
        }
    }

    private string TailOfLog()
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogFile).TakeLast(15));
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}

public sealed class PostgresClusterException(string message) : Exception(message);
