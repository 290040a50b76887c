using BenchmarkDotNet.Running;
using Taidon.Benchmarks;

if (args.Contains("--runs"))
{
    var at = Array.IndexOf(args, "--iterations");
    var dir = Array.IndexOf(args, "--dir");
    await RunBenchmarks.RunAsync(at >= 0 ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : 15, dir >= 0 ? args[dir + 1] : null);
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

if (args.Contains("--profile"))
{
    QuickProfile.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point of the benchmarks: <c>dotnet run -c Release --project Taidon.Benchmarks -- --filter '*'</c>.</summary>
public partial class Program;
