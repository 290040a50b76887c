using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Taidon.Benchmarks.ClassLoad;

/// <summary>
/// The app started as the README starts it (<c>dotnet run --project Taidon.Web</c>, built already), on a
/// free loopback port with its own data directory; only the visitor rate limits a school behind one
/// address would raise are changed. Reads what the app and its PostgreSQL processes use from /proc.
/// </summary>
public sealed class AppUnderLoad : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dataDirectory;
    private readonly bool _ownsData;

    private AppUnderLoad(Process process, Uri address, string dataDirectory, bool ownsData)
    {
        _process = process;
        Address = address;
        _dataDirectory = dataDirectory;
        _ownsData = ownsData;
    }

    public Uri Address { get; }

    public string DataDirectory => _dataDirectory;

    public static async Task<AppUnderLoad> StartAsync(string repository, string configuration, string? dataDirectory, IReadOnlyDictionary<string, string> settings)
    {
        var data = dataDirectory ?? Path.Combine(Path.GetTempPath(), "taidon-class-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(data);
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = repository,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "run", "--no-build", "-c", configuration, "--project", "Taidon.Web", "--", "--urls", address.ToString() })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Taidon__DataDirectory"] = data;
        foreach (var (key, value) in settings)
        {
            start.Environment["Taidon__" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet run did not start.");
        var log = new StreamWriter(Path.Combine(data, "app.log")) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new AppUnderLoad(process, address, data, dataDirectory is null);
        await app.WaitReadyAsync(TimeSpan.FromMinutes(3));
        return app;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        }
    }

    private async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The app exited with {_process.ExitCode} before it was ready; see {Path.Combine(_dataDirectory, "app.log")}.");
            }

            try
            {
                if ((await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"The app was not ready within {timeout.TotalSeconds:0} s; see {Path.Combine(_dataDirectory, "app.log")}.");
    }

    /// <summary>The app's own process (the child of <c>dotnet run</c>), found by its command line.</summary>
    public int? AppProcessId() =>
        Processes().FirstOrDefault(p => p.Parent == _process.Id && p.CommandLine.Contains("Taidon.Web", StringComparison.Ordinal))?.Id;

    /// <summary>Resident memory of the app in bytes.</summary>
    public long AppMemoryBytes() => AppProcessId() is { } id ? Status(id, "VmRSS:") : 0;

    /// <summary>
    /// CPU time used so far, in seconds: the whole machine's (busy time of all cores, from /proc/stat), the
    /// app process's, and that of the live processes named <paramref name="browser"/> (the harness's own
    /// browsers, which a real class runs on other machines).
    /// </summary>
    public (double Machine, double App, double Browsers) CpuSeconds(string browser = "chromium")
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
        var machine = new[] { 1, 2, 3, 6, 7, 8 }.Sum(i => long.Parse(cpu[i], CultureInfo.InvariantCulture)) / ClockTicks;
        var app = AppProcessId() is { } id ? ProcessTicks(id) / ClockTicks : 0;
        var browsers = Processes().Where(p => p.Name == browser).Sum(p => ProcessTicks(p.Id)) / ClockTicks;
        return (machine, app, browsers);
    }

    /// <summary>The kernel's clock ticks a second (USER_HZ), 100 on Linux.</summary>
    private const double ClockTicks = 100;

    private static long ProcessTicks(int id)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine("/proc", id.ToString(CultureInfo.InvariantCulture), "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime and stime are fields 14 and 15 of stat; fields[0] here is the third (state).
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>How many PostgreSQL processes' memory a sample reads: a full sweep of 1,500 takes about two seconds of CPU from the machine being measured.</summary>
    public const int PssSample = 200;

    /// <summary>
    /// PostgreSQL processes on the machine (the app's instances and control plane) and their proportional
    /// memory, estimated from the PSS of at most <see cref="PssSample"/> of them chosen at random (all of them below that).
    /// </summary>
    public static (int Count, long PssBytes) PostgresUse()
    {
        var postgres = Processes().Where(p => p.Name == "postgres").Select(p => p.Id).ToArray();
        if (postgres.Length == 0)
        {
            return (0, 0);
        }

        Random.Shared.Shuffle(postgres);
        var sample = postgres.Take(PssSample).ToArray();
        var pss = sample.Sum(id => Rollup(id, "Pss:"));
        return (postgres.Length, pss * postgres.Length / sample.Length);
    }

    /// <summary>Bytes in use on the filesystem that holds the data directory (shared blocks counted once).</summary>
    public long FilesystemUsedBytes()
    {
        var drive = new DriveInfo(_dataDirectory);
        return drive.TotalSize - drive.TotalFreeSpace;
    }

    private sealed record ProcessInfo(int Id, int Parent, string Name, string CommandLine);

    private static IEnumerable<ProcessInfo> Processes()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                continue;
            }

            ProcessInfo? info = null;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var name = stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..stat.LastIndexOf(')')];
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                info = new ProcessInfo(id, parent, name, File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' '));
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }

            if (info is not null)
            {
                yield return info;
            }
        }
    }

    private static long Status(int id, string field) => Field(Path.Combine("/proc", id.ToString(CultureInfo.InvariantCulture), "status"), field);

    private static long Rollup(int id, string field) => Field(Path.Combine("/proc", id.ToString(CultureInfo.InvariantCulture), "smaps_rollup"), field);

    private static long Field(string file, string field)
    {
        try
        {
            var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // A stop as a service manager asks for it (SIGTERM: SIGINT is ignored by a job a non-interactive
            // shell put in the background): the app stops its instances and the control plane.
            if (AppProcessId() is { } app)
            {
                Process.Start("kill", ["-TERM", app.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
            }

            using var stopped = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await _process.WaitForExitAsync(stopped.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();

        // Instances the app did not stop would run on (and skew the next measurement): say so and end them.
        var left = Processes().Where(p => p.Name == "postgres" && p.CommandLine.Contains(_dataDirectory, StringComparison.Ordinal)).ToList();
        if (left.Count > 0)
        {
            Console.WriteLine($"{left.Count} PostgreSQL servers outlived the app's stop; ending them");
            foreach (var postmaster in left)
            {
                Process.Start("kill", ["-9", postmaster.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
            }
        }

        if (_ownsData)
        {
            // The app's log outlives the temporary data directory, for the errors the figures count.
            var log = Path.Combine(_dataDirectory, "app.log");
            if (File.Exists(log))
            {
                File.Copy(log, Path.Combine(Path.GetTempPath(), "taidon-class-last-app.log"), overwrite: true);
            }

            try
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A process still closing files: the temporary directory goes with the machine.
            }
        }
    }
}
