using System.Globalization;
using Microsoft.Extensions.Logging;
using Taidon.Core.Instances;
using Taidon.Core.Quotas;

namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>
/// The embedded runtime's memory and CPU bounds: each instance's postmaster and its backends go into a
/// control group of their own (<c>taidon/&lt;instance&gt;</c>) with the plan's memory as its limit and the
/// plan's CPU as its quota, so one student's query cannot take the machine's memory or every core. Works
/// with cgroup v2 (memory.max, cpu.max) and v1 (memory.limit_in_bytes, cpu.cfs_quota_us) where the
/// hierarchy is writable (Taidon runs as root); elsewhere <see cref="Detect"/> says why once and applies nothing.
/// </summary>
public sealed class InstanceCgroups
{
    private const string Mount = "/sys/fs/cgroup";
    private const long CpuPeriodMicroseconds = 100_000;

    private readonly ILogger _logger;
    private readonly bool _unified;

    /// <summary>
    /// The bounds written to each instance's group by this process: a restart with the same plan only moves
    /// the new postmaster in (writing cpu.max makes the kernel walk its CPU bandwidth tree, at every start).
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, (long? Memory, long? Quota)> _written = new();

    private InstanceCgroups(ILogger logger, bool unified)
    {
        _logger = logger;
        _unified = unified;
    }

    /// <summary>The bounds this machine can apply, or null (logged once, with the reason) when it can apply none.</summary>
    public static InstanceCgroups? Detect(ILogger logger)
    {
        try
        {
            if (File.Exists(Path.Combine(Mount, "cgroup.controllers")))
            {
                var controllers = File.ReadAllText(Path.Combine(Mount, "cgroup.controllers"));
                if (!controllers.Contains("memory", StringComparison.Ordinal) || !controllers.Contains("cpu", StringComparison.Ordinal))
                {
                    return Unavailable(logger, "the cgroup v2 hierarchy has no memory or cpu controller");
                }

                var parent = Path.Combine(Mount, "taidon");
                Directory.CreateDirectory(parent);
                File.WriteAllText(Path.Combine(Mount, "cgroup.subtree_control"), "+memory +cpu");
                File.WriteAllText(Path.Combine(parent, "cgroup.subtree_control"), "+memory +cpu");
                return new InstanceCgroups(logger, unified: true);
            }

            if (Directory.Exists(Path.Combine(Mount, "memory")) && Directory.Exists(Path.Combine(Mount, "cpu")))
            {
                Directory.CreateDirectory(Path.Combine(Mount, "memory", "taidon"));
                Directory.CreateDirectory(Path.Combine(Mount, "cpu", "taidon"));
                return new InstanceCgroups(logger, unified: false);
            }

            return Unavailable(logger, $"no cgroup hierarchy with memory and cpu controllers is mounted at {Mount}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Unavailable(logger, $"{Mount} is not writable ({e.Message}); run Taidon as root to bound instances' memory and CPU");
        }
    }

    private static InstanceCgroups? Unavailable(ILogger logger, string why)
    {
        logger.LogWarning("Instances run without memory and CPU bounds of their own: {Reason}. Their statements are still bounded in time, temporary files and disk", why);
        return null;
    }

    /// <summary>Puts a started instance's postmaster and its processes into the instance's group, with the limits' memory and CPU.</summary>
    public void Apply(Guid instanceId, int postmasterPid, InstanceLimits limits)
    {
        try
        {
            var memory = Quota.MemoryBytes(limits.Memory);
            var quota = Quota.Millicores(limits.Cpu) is { } millicores ? millicores * CpuPeriodMicroseconds / 1000 : (long?)null;
            var groups = _unified ? [Group(Mount, instanceId)] : new[] { Group(Path.Combine(Mount, "memory"), instanceId), Group(Path.Combine(Mount, "cpu"), instanceId) };
            var written = _written.TryGetValue(instanceId, out var bounds) && bounds == (memory, quota) && groups.All(Directory.Exists);
            // The group keeps its bounds between the instance's postmasters.
            if (!written)
            {
                foreach (var group in groups)
                {
                    Directory.CreateDirectory(group);
                }

                if (_unified)
                {
                    Write(groups[0], "memory.max", memory?.ToString(CultureInfo.InvariantCulture) ?? "max");
                    Write(groups[0], "memory.swap.max", "0", optional: true);
                    Write(groups[0], "cpu.max", quota is { } q ? $"{q} {CpuPeriodMicroseconds}" : "max");
                }
                else
                {
                    // memory+swap may never be below memory: lift it first, so that a plan made larger applies too.
                    Write(groups[0], "memory.memsw.limit_in_bytes", "-1", optional: true);
                    Write(groups[0], "memory.limit_in_bytes", memory?.ToString(CultureInfo.InvariantCulture) ?? "-1");
                    Write(groups[0], "memory.memsw.limit_in_bytes", memory?.ToString(CultureInfo.InvariantCulture) ?? "-1", optional: true);
                    Write(groups[1], "cpu.cfs_period_us", CpuPeriodMicroseconds.ToString(CultureInfo.InvariantCulture));
                    Write(groups[1], "cpu.cfs_quota_us", quota?.ToString(CultureInfo.InvariantCulture) ?? "-1");
                }
            }

            _written[instanceId] = (memory, quota);

            // The postmaster first, so that what it forks from now on is born inside; then what it forked already.
            foreach (var pid in new[] { postmasterPid }.Concat(Children(postmasterPid)))
            {
                foreach (var group in groups)
                {
                    Write(group, "cgroup.procs", pid.ToString(CultureInfo.InvariantCulture), optional: true);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning(e, "Could not bound the memory and CPU of instance {InstanceId}", instanceId);
        }
    }

    /// <summary>Removes a deleted instance's group (its processes are gone).</summary>
    public void Remove(Guid instanceId)
    {
        _written.TryRemove(instanceId, out _);
        foreach (var group in _unified ? [Group(Mount, instanceId)] : new[] { Group(Path.Combine(Mount, "memory"), instanceId), Group(Path.Combine(Mount, "cpu"), instanceId) })
        {
            try
            {
                if (Directory.Exists(group))
                {
                    Directory.Delete(group);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogDebug(e, "The control group {Group} could not be removed", group);
            }
        }
    }

    /// <summary>The group of an instance under a controller's hierarchy (v1) or the unified one (v2).</summary>
    public static string Group(string hierarchy, Guid instanceId) => Path.Combine(hierarchy, "taidon", instanceId.ToString("N"));

    private static void Write(string group, string file, string value, bool optional = false)
    {
        var path = Path.Combine(group, file);
        if (optional && !File.Exists(path))
        {
            return;
        }

        try
        {
            File.WriteAllText(path, value);
        }
        catch (IOException) when (optional)
        {
            // A process that already exited, or a knob this kernel refuses (swap accounting off).
        }
    }

    private static IEnumerable<int> Children(int parent)
    {
        // The kernel lists a thread's children itself (a postmaster has one thread); reading every process
        // of the machine instead cost a class of 300 a twentieth of the app's time, one scan per start.
        var listed = $"/proc/{parent}/task/{parent}/children";
        if (File.Exists(listed))
        {
            string children;
            try
            {
                children = File.ReadAllText(listed);
            }
            catch (IOException)
            {
                yield break;
            }

            foreach (var child in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(child, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
                {
                    yield return pid;
                }
            }

            yield break;
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length > 1 && int.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ppid) && ppid == parent)
            {
                yield return pid;
            }
        }
    }
}
