using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Tests.Kubernetes;

/// <summary>
/// The fake cluster's node, running pods as real processes: a pod's container command (the instance
/// image's start script) runs with its volume mounts mapped to directories, as the unprivileged
/// PostgreSQL account, and its network is a loopback address of its own (127.0.0.N stands for the pod's
/// IP; the pod's own 127.0.0.1 is mapped to it). Init containers run to their end first; a container without
/// a readiness probe in a pod never restarted runs to its end (a one-shot pod). Readiness is the pod's
/// readiness probe, stopping runs its preStop hook. Volumes are directories, snapshots are copies of them, a volume from a snapshot is a copy
/// back. What is not the image's: the PostgreSQL programs come from this machine.
/// </summary>
public sealed class ProcessKubelet : IAsyncDisposable
{
    private static int _nextAddress = 10 + Random.Shared.Next(200);

    private readonly string _root = Directory.CreateTempSubdirectory("taidon-node-").FullName;
    private readonly OsUser? _user = OsUser.ForPostgres(null);
    private readonly string _bin = PostgresBinaries.Locate(null).BinDirectory;
    private readonly ConcurrentDictionary<string, RunningPod> _pods = new(StringComparer.Ordinal);

    /// <summary>
    /// The nice value the pods' processes run at (0, the app's own, by default). On a cluster the instance pods run
    /// within their CPU requests and limits, often on other nodes than the app; on one machine shared with the
    /// app, a lower priority stands in for that isolation, so a class's runs do not starve the app's requests.
    /// </summary>
    public int Niceness { get; set; }

    public ProcessKubelet()
    {
        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        foreach (var folder in new[] { "volumes", "snapshots", "run" })
        {
            Directory.CreateDirectory(Path.Combine(_root, folder));
        }
    }

    public async Task CreateVolumeAsync(string name, string? fromSnapshot)
    {
        var volume = Path.Combine(_root, "volumes", name);
        if (fromSnapshot is null)
        {
            Directory.CreateDirectory(volume);
            _user?.Own(volume);
        }
        else
        {
            await CopyAsync(Path.Combine(_root, "snapshots", fromSnapshot), volume);
        }
    }

    public void DeleteVolume(string name) => DeleteQuietly(Path.Combine(_root, "volumes", name));

    /// <summary>Copies a volume (its pod is stopped: the runtime deletes it first) and returns the bytes copied.</summary>
    public async Task<long> SnapshotAsync(string volume, string snapshot)
    {
        var target = Path.Combine(_root, "snapshots", snapshot);
        await CopyAsync(Path.Combine(_root, "volumes", volume), target);
        return new DirectoryInfo(target).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
    }

    public void DeleteSnapshot(string name) => DeleteQuietly(Path.Combine(_root, "snapshots", name));

    /// <summary>
    /// Runs a pod as the kubelet would: its init containers one after the other, each to its end (the first that
    /// fails ends the pod's start); then its container. A container with a readiness probe is started and waited
    /// for (the pod's address, or why it never became ready); one without, in a pod that is never restarted,
    /// runs to its end (its exit code and termination message).
    /// </summary>
    public async Task<PodRun> StartPodAsync(JsonObject pod, Func<string, string, string?> secret)
    {
        var name = pod["metadata"]!["name"]!.GetValue<string>();
        var spec = pod["spec"]!;
        var address = $"127.0.0.{Interlocked.Increment(ref _nextAddress) % 240 + 10}";
        var run = Path.Combine(_root, "run", name[^8..]);
        DeleteQuietly(run);

        foreach (var init in spec["initContainers"]?.AsArray() ?? [])
        {
            var ended = await RunToEndAsync(Prepare(spec, init!, run, address, secret));
            if (ended.ExitCode != 0)
            {
                return new PodRun(null, null, ended, null);
            }
        }

        var container = Prepare(spec, spec["containers"]![0]!, run, address, secret);
        if (container.Spec["readinessProbe"] is null && spec["restartPolicy"]?.GetValue<string>() == "Never")
        {
            return new PodRun(null, null, null, await RunToEndAsync(container));
        }

        var output = new StringBuilder();
        var process = Start(container.Command, container.Environment, output);
        var running = new RunningPod(process, container.Map, output);
        _pods[name] = running;

        var probe = container.Spec["readinessProbe"]!["exec"]!["command"]!.AsArray().Select(c => container.Map(c!.GetValue<string>())).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                return new PodRun(null, $"the container exited with {process.ExitCode}: {Tail(running.Output)}", null, null);
            }

            if ((await ProcessRunner.RunAsync(Path.Combine(_bin, probe[0]), probe[1..], _user, TimeSpan.FromSeconds(5), CancellationToken.None)).ExitCode == 0)
            {
                return new PodRun(address, null, null, null);
            }

            await Task.Delay(100);
        }

        return new PodRun(null, "the readiness probe never passed", null, null);
    }

    /// <summary>
    /// A container's command and environment with its mounts mapped to this node's directories: a claim is its
    /// volume's directory (the layers' claim as any other), an emptyDir a fresh one, and the termination message
    /// path a file of the container's own.
    /// </summary>
    private PreparedContainer Prepare(JsonNode spec, JsonNode container, string run, string address, Func<string, string, string?> secret)
    {
        var mounts = new List<(string MountPath, string Local)>();
        foreach (var mount in container["volumeMounts"]?.AsArray() ?? [])
        {
            var volume = spec["volumes"]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == mount!["name"]!.GetValue<string>())!;
            var local = volume["persistentVolumeClaim"] is { } claim
                ? Path.Combine(_root, "volumes", claim["claimName"]!.GetValue<string>())
                : Path.Combine(run, mount!["name"]!.GetValue<string>());
            Directory.CreateDirectory(local);
            _user?.Own(local);
            mounts.Add((mount!["mountPath"]!.GetValue<string>(), local));
        }

        var containerName = container["name"]!.GetValue<string>();
        var terminationLog = Path.Combine(run, "termination-" + containerName);
        Directory.CreateDirectory(run);
        File.WriteAllText(terminationLog, "");
        _user?.Own(terminationLog);
        mounts.Add((container["terminationMessagePath"]?.GetValue<string>() ?? "/dev/termination-log", terminationLog));

        // One pass, longest mount first, and only where a path starts: a mapped path is never mapped again.
        var mountPattern = new System.Text.RegularExpressions.Regex(
            "(?<![^=\\s])(" + string.Join('|', mounts.OrderByDescending(m => m.MountPath.Length).Select(m => System.Text.RegularExpressions.Regex.Escape(m.MountPath))) + ")(?=/|$|\\s)");
        string Map(string value)
        {
            value = mountPattern.Replace(value, m => mounts.First(x => x.MountPath == m.Value).Local);
            value = System.Text.RegularExpressions.Regex.Replace(value, @"127\.0\.0\.1(?!\d)", address);
            return value.Replace("listen_addresses=*", "listen_addresses=" + address, StringComparison.Ordinal);
        }

        var environment = new Dictionary<string, string> { ["PATH"] = $"{_bin}:/usr/bin:/bin" };
        foreach (var variable in container["env"]?.AsArray() ?? [])
        {
            var reference = variable!["valueFrom"]?["secretKeyRef"];
            environment[variable["name"]!.GetValue<string>()] = reference is null
                ? Map(variable["value"]!.GetValue<string>())
                : secret(reference["name"]!.GetValue<string>(), reference["key"]!.GetValue<string>()) ?? throw new InvalidOperationException("CreateContainerConfigError: the secret is missing");
        }

        var command = container["command"]!.AsArray().Select(c => Map(c!.GetValue<string>()))
            .Concat(container["args"]?.AsArray().Select(a => Map(a!.GetValue<string>())) ?? []).ToList();
        return new PreparedContainer(containerName, container, command, environment, Map, terminationLog);
    }

    /// <summary>
    /// Runs a container to its end: its exit code, and its termination message (the file's, or with
    /// FallbackToLogsOnError the tail of its log when it failed without one).
    /// </summary>
    private async Task<ContainerEnd> RunToEndAsync(PreparedContainer container)
    {
        var output = new StringBuilder();
        using var process = Start(container.Command, container.Environment, output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        var message = await File.ReadAllTextAsync(container.TerminationLog);
        if (message.Length == 0 && process.ExitCode != 0 && container.Spec["terminationMessagePolicy"]?.GetValue<string>() == "FallbackToLogsOnError")
        {
            message = Tail(output);
        }

        return new ContainerEnd(container.Name, process.ExitCode, message);
    }

    /// <summary>The directory that stands for a volume (a claim's name) on this node.</summary>
    public string VolumePath(string claim) => Path.Combine(_root, "volumes", claim);

    /// <summary>Stops a pod: its preStop hook, then the kubelet's signal (graceful); or a kill.</summary>
    public async Task StopPodAsync(JsonObject pod, bool graceful)
    {
        var name = pod["metadata"]!["name"]!.GetValue<string>();
        if (!_pods.TryRemove(name, out var running))
        {
            return;
        }

        if (graceful && !running.Process.HasExited)
        {
            var preStop = pod["spec"]!["containers"]![0]!["lifecycle"]?["preStop"]?["exec"]?["command"]?.AsArray().Select(c => running.Map(c!.GetValue<string>())).ToList();
            if (preStop is not null)
            {
                await ProcessRunner.RunAsync(Path.Combine(_bin, preStop[0]), preStop[1..], _user, TimeSpan.FromSeconds(30), CancellationToken.None,
                    new Dictionary<string, string> { ["PATH"] = $"{_bin}:/usr/bin:/bin" });
            }
        }

        if (!running.Process.HasExited)
        {
            running.Process.Kill(entireProcessTree: true);
        }

        await running.Process.WaitForExitAsync();
        running.Process.Dispose();
        DeleteQuietly(Path.Combine(_root, "run", name[^8..]));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, running) in _pods)
        {
            if (!running.Process.HasExited)
            {
                running.Process.Kill(entireProcessTree: true);
                await running.Process.WaitForExitAsync();
            }
        }

        DeleteQuietly(_root);
    }

    private static string Tail(StringBuilder output)
    {
        lock (output)
        {
            var text = output.ToString().Trim();
            return text.Length > 600 ? text[^600..] : text;
        }
    }

    private Process Start(IReadOnlyList<string> command, Dictionary<string, string> environment, StringBuilder output)
    {
        if (Niceness != 0)
        {
            command = ["nice", "-n", Niceness.ToString(System.Globalization.CultureInfo.InvariantCulture), .. command];
        }

        var process = new Process { StartInfo = ProcessRunner.StartInfo(command[0], command.Skip(1).ToList(), _user, environment), EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static async Task CopyAsync(string source, string target)
    {
        DeleteQuietly(target);
        var copied = await ProcessRunner.RunAsync("cp", ["-a", source, target], null, TimeSpan.FromMinutes(2), CancellationToken.None);
        if (copied.ExitCode != 0)
        {
            throw new InvalidOperationException($"Copying {source} failed: {copied.Output}");
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed record RunningPod(Process Process, Func<string, string> Map, StringBuilder Output);

    private sealed record PreparedContainer(string Name, JsonNode Spec, List<string> Command, Dictionary<string, string> Environment, Func<string, string> Map, string TerminationLog);
}

/// <summary>How a pod's start went: ready at an address, or a container that never became ready, or an init container that failed, or a run-to-end container's end.</summary>
public sealed record PodRun(string? Address, string? Failure, ContainerEnd? InitFailure, ContainerEnd? Ended);

/// <summary>A container that ran to its end: its exit code and termination message.</summary>
public sealed record ContainerEnd(string Name, int ExitCode, string Message);
