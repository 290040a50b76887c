using BenchmarkDotNet.Running;
using Taidon.Benchmarks;

if (args.Contains("--profile"))
{
    QuickProfile.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point of the benchmarks: <c>dotnet run -c Release --project Taidon.Benchmarks -- --filter '*'</c>.</summary>
public partial class Program;
