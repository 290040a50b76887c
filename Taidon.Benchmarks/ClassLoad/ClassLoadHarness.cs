using System.Diagnostics;
using Microsoft.Playwright;

namespace Taidon.Benchmarks.ClassLoad;

/// <summary>
/// A class on the app, over its HTTP API as the students' browsers would use it (<see cref="ClassStudents"/>),
/// plus a few real browser circuits (<see cref="ClassCircuits"/>, Debian's chromium): prints first-result and run latency (p50/p95/p99),
/// errors by kind, runs per second, the app's memory, PostgreSQL's processes and memory, and disk per
/// student. A plain C# driver rather than NBomber: the students are loops with think times that must
/// keep their own state (a token, a project, the last edit saved), and the figures that matter are
/// read from /proc and the filesystem beside the latencies.
/// </summary>
public static class ClassLoadHarness
{
    public static async Task RunAsync(ClassWorkload workload, string repository, string configuration, string? dataDirectory, IReadOnlyDictionary<string, string> extraSettings, bool lesson = false)
    {
        var settings = new Dictionary<string, string>(ClassStudents.SchoolSettings);
        await using var planned = lesson ? await PlannedLesson.PrepareAsync() : null;
        foreach (var (key, value) in (planned?.Settings ?? new Dictionary<string, string>()).Concat(extraSettings))
        {
            settings[key] = value;
        }

        Console.WriteLine($"Class load: {workload.Students} students arriving within {workload.ArrivalWindow.TotalSeconds:0} s, editing every {workload.ThinkMin.TotalSeconds:0}-{workload.ThinkMax.TotalSeconds:0} s for {workload.Duration.TotalMinutes:0.#} min, {workload.Browsers} browser circuits; app: dotnet run -c {configuration}");
        await using var app = await AppUnderLoad.StartAsync(repository, configuration, dataDirectory, settings);
        Console.WriteLine($"App ready at {app.Address} (data: {app.DataDirectory}); memory {Mb(app.AppMemoryBytes())}");
        if (planned is not null)
        {
            await planned.PlanAsync(app, workload);
        }

        var diskBefore = app.FilesystemUsedBytes();
        var figures = new ClassFigures();
        using var http = ClassStudents.Client(app.Address);

        using var playwright = workload.Browsers > 0 ? await Playwright.CreateAsync() : null;
        await using var browser = playwright is null ? null : await playwright.Chromium.LaunchAsync(Chromium);
        var clock = Stopwatch.StartNew();
        var memoryBefore = app.AppMemoryBytes();
        await using var browsers = browser is null ? null : await ClassCircuits.OpenAsync(browser, app.Address, workload.Browsers, figures, clock, planned?.CourseLink ?? "/");
        if (browsers is not null)
        {
            GC.Collect();
            await Task.Delay(2000);
            figures.CircuitBytes = Math.Max(0, app.AppMemoryBytes() - memoryBefore) / workload.Browsers;
        }

        clock.Restart();
        var cpuBefore = app.CpuSeconds();
        using var over = new CancellationTokenSource(workload.Duration);
        using var sampling = new CancellationTokenSource();
        var sampler = SampleAsync(app, figures, clock, sampling.Token);
        var (students, working) = ClassStudents.Arrive(http, workload, figures, clock, over.Token);
        var circuits = browsers?.RunAsync(workload, over.Token) ?? Task.CompletedTask;
        await working;
        await circuits;
        var elapsed = clock.Elapsed;
        var cpu = app.CpuSeconds();
        figures.Cores = ((cpu.Machine - cpuBefore.Machine) / elapsed.TotalSeconds, (cpu.App - cpuBefore.App) / elapsed.TotalSeconds, (cpu.Browsers - cpuBefore.Browsers) / elapsed.TotalSeconds);
        await sampling.CancelAsync();
        await sampler;

        var (read, lost) = await ClassStudents.CheckSavedAsync(http, students);
        var disk = app.FilesystemUsedBytes() - diskBefore;
        figures.Print(Console.WriteLine, elapsed, workload, disk);
        Console.WriteLine($"saved edits read back: {read}, of which different from the last save: {lost.Count}{string.Concat(lost.Take(5).Select(l => "\n  " + l))}");
    }

    private static async Task SampleAsync(AppUnderLoad app, ClassFigures figures, Stopwatch clock, CancellationToken cancellationToken)
    {
        var next = TimeSpan.Zero;
        while (!cancellationToken.IsCancellationRequested)
        {
            // Every 5 s: the harness shares the cores it measures, and a look reads every process's /proc files.
            var memory = app.AppMemoryBytes();
            var (count, pss) = AppUnderLoad.PostgresUse();
            figures.Sample(memory, count, pss);
            if (clock.Elapsed >= next)
            {
                Console.WriteLine($"  {clock.Elapsed.TotalSeconds,5:0} s  runs {figures.RunCount,6}  errors {figures.ErrorCount,5}  app {Mb(memory),8}  postgres {count,4} processes {Mb(pss),9}");
                next = clock.Elapsed + TimeSpan.FromSeconds(15);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Debian's chromium, headless, on what CPU the server leaves (<see cref="LowPriority"/>). A class's
    /// browsers run on the students' own machines; here they share the two cores with the server they
    /// measure. At the default priority twenty pages animating their runs' progress bars (software
    /// compositing, no GPU) took 1.9 of the 2 cores: the instances, all in one cgroup, got the rest, and the
    /// class had 1 run a second instead of 19.
    /// </summary>
    internal static BrowserTypeLaunchOptions Chromium => new()
    {
        ExecutablePath = LowPriority(Environment.GetEnvironmentVariable("TAIDON_CHROMIUM") ?? "/usr/bin/chromium"),
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
    };

    /// <summary>
    /// A script that runs <paramref name="executable"/> in a CPU cgroup of the smallest weight (v1
    /// <c>cpu.shares</c> 2, v2 <c>cpu.weight</c> 1) when it may make one (as root), and at niceness 19.
    /// Niceness alone does not hold: chromium run as root sets its renderers back to 0 and its GPU process to -8.
    /// </summary>
    private static string LowPriority(string executable)
    {
        var script = Path.Combine(Path.GetTempPath(), $"taidon-chromium-{Environment.ProcessId}.sh");
        File.WriteAllText(script, $$"""
            #!/bin/sh
            for group in /sys/fs/cgroup/cpu/taidon-class-browsers:cpu.shares:2:tasks /sys/fs/cgroup/taidon-class-browsers:cpu.weight:1:cgroup.procs; do
              dir=${group%%:*}; rest=${group#*:}; file=${rest%%:*}; rest=${rest#*:}; value=${rest%%:*}; procs=${rest#*:}
              if [ -d "$(dirname "$dir")/" ] && mkdir -p "$dir" 2>/dev/null && echo "$value" > "$dir/$file" 2>/dev/null && echo $$ > "$dir/$procs" 2>/dev/null; then break; fi
            done
            exec nice -n 19 '{{executable.Replace("'", "'\\''", StringComparison.Ordinal)}}' "$@"

            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return script;
    }

    internal static string Mb(long bytes) => ClassFigures.Mb(bytes);
}
