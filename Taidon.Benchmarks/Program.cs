using BenchmarkDotNet.Running;
using Taidon.Benchmarks;

if (args.Contains("--runs"))
{
    var at = Array.IndexOf(args, "--iterations");
    var dir = Array.IndexOf(args, "--dir");
    await RunBenchmarks.RunAsync(at >= 0 ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : 15, dir >= 0 ? args[dir + 1] : null);
    return;
}

if (args.Contains("--reruns"))
{
    var at = Array.IndexOf(args, "--iterations");
    var dir = Array.IndexOf(args, "--dir");
    var shape = Array.IndexOf(args, "--shape");
    var storage = Array.IndexOf(args, "--storage");
    var firstRuns = Array.IndexOf(args, "--first-runs");
    await ScriptRerunBenchmarks.RunAsync(
        at >= 0 ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : 3,
        dir >= 0 ? args[dir + 1] : null,
        args.Contains("--smoke"),
        shape >= 0 ? args[shape + 1] : null,
        storage >= 0 ? args[storage + 1] : null,
        firstRuns >= 0 ? int.Parse(args[firstRuns + 1], System.Globalization.CultureInfo.InvariantCulture) : 3);
    return;
}

if (args.Contains("--audit"))
{
    var rows = Array.IndexOf(args, "--rows");
    await AuditBenchmarks.RunAsync(rows >= 0 ? int.Parse(args[rows + 1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
    return;
}

if (args.Contains("--hostile"))
{
    await HostileBenchmarks.RunAsync(smoke: args.Contains("--smoke"));
    return;
}

if (args.Contains("--class"))
{
    string? Value(string name) => Array.IndexOf(args, name) is var at and >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    var workload = args.Contains("--smoke")
        ? Taidon.Benchmarks.ClassLoad.ClassWorkload.Smoke
        : Taidon.Benchmarks.ClassLoad.ClassWorkload.Default(
            int.Parse(Value("--students") ?? "40", System.Globalization.CultureInfo.InvariantCulture),
            TimeSpan.FromMinutes(double.Parse(Value("--minutes") ?? "15", System.Globalization.CultureInfo.InvariantCulture)),
            int.Parse(Value("--browsers") ?? "20", System.Globalization.CultureInfo.InvariantCulture));
    var settings = args.Select((a, i) => (a, i)).Where(x => x.a == "--set" && x.i + 1 < args.Length).Select(x => args[x.i + 1].Split('=', 2))
        // Settings are under Taidon: (Storage:CopyOnWrite=off); the full name is taken too, not silently lost.
        .ToDictionary(kv => kv[0].StartsWith("Taidon:", StringComparison.OrdinalIgnoreCase) ? kv[0]["Taidon:".Length..] : kv[0], kv => kv[1]);
    await Taidon.Benchmarks.ClassLoad.ClassLoadHarness.RunAsync(workload, Repository.Root, Value("--config") ?? "Debug", Value("--data"), settings, lesson: args.Contains("--lesson"));
    return;
}

if (args.Contains("--profile"))
{
    QuickProfile.Run(smoke: args.Contains("--smoke"));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point of the benchmarks: <c>dotnet run -c Release --project Taidon.Benchmarks -- --filter '*'</c>.</summary>
public partial class Program;
