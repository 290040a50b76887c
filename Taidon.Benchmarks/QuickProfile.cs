using System.Diagnostics;
using System.Text;
using Taidon.Core.SqlChain;

namespace Taidon.Benchmarks;

/// <summary>
/// A quick breakdown of where the chain's time goes (lexing, splitting, keys), run with
/// <c>-- --profile</c>: medians of a few runs in one process, as ratios of the lexer alone.
/// </summary>
public static class QuickProfile
{
    public static void Run()
    {
        var script = SqlChainBenchmarks.ScriptOf(10 * 1024 * 1024);
        var megabytes = Encoding.UTF8.GetByteCount(script) / (1024.0 * 1024.0);
        var engine = EngineIdentity.PostgreSql(15);
        var lex = Median(() =>
        {
            var lexer = new SqlLexer(script);
            var count = 0;
            while (lexer.Next(out _))
            {
                count++;
            }

            return count;
        });
        var split = Median(() => SqlSplitter.Split(script).Statements.Count);
        var statements = SqlSplitter.Split(script).Statements;
        var keys = Median(() => ChainKeys.Compute(engine, statements).Count);

        Console.WriteLine($"script: {megabytes:F1} MB, {statements.Count} statements");
        Report("lex only", lex, lex, megabytes);
        Report("split + normalize", split, lex, megabytes);
        Report("chain keys of split statements", keys, lex, megabytes);
        Report("split + normalize + keys", split + keys, lex, megabytes);
    }

    private static void Report(string what, TimeSpan time, TimeSpan baseline, double megabytes) =>
        Console.WriteLine($"{what,-34} {time.TotalMilliseconds,8:F1} ms  {megabytes / time.TotalSeconds,7:F1} MB/s  ratio {time / baseline,5:F2}");

    private static TimeSpan Median(Func<int> action)
    {
        action();
        var times = new List<TimeSpan>();
        for (var i = 0; i < 7; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times.Add(watch.Elapsed);
        }

        return times.Order().ElementAt(times.Count / 2);
    }
}
