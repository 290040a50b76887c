using System.Diagnostics;
using System.Text;
using Taidon.Core.SqlChain;

namespace Taidon.Benchmarks;

/// <summary>
/// A quick breakdown of where the chain's time goes (lexing, splitting, keys), run with
/// <c>-- --profile</c>: medians of a few runs in one process, as ratios of the lexer alone; then the
/// splitter's corpus, and a one-character edit of a 1 MB script reanalyzed against analyzed afresh.
/// <c>--smoke</c> runs each part once on small inputs.
/// </summary>
public static class QuickProfile
{
    public static void Run(bool smoke)
    {
        var runs = smoke ? 1 : 15;
        var script = SqlChainBenchmarks.ScriptOf(smoke ? 100_000 : 10 * 1024 * 1024);
        var megabytes = Megabytes(script);
        var engine = EngineIdentity.PostgreSql(15);
        var lex = Median(runs, () =>
        {
            var lexer = new SqlLexer(script);
            var count = 0;
            while (lexer.Next(out _))
            {
                count++;
            }

            return count;
        });
        var split = Median(runs, () => SqlSplitter.Split(script).Statements.Count);
        var statements = SqlSplitter.Split(script).Statements;
        var keys = Median(runs, () => ChainKeys.Compute(engine, statements).Count);

        Console.WriteLine($"script: {megabytes:F1} MB, {statements.Count} statements");
        Report("lex only", lex, lex, megabytes);
        Report("split + normalize", split, lex, megabytes);
        Report("chain keys of split statements", keys, lex, megabytes);
        Report("split + normalize + keys", split + keys, lex, megabytes);

        var corpus = SqlChainBenchmarks.CorpusOf(smoke ? 100_000 : 4 * 1024 * 1024);
        var corpusMegabytes = corpus.Sum(s => Megabytes(s.Text));
        var corpusTime = Median(runs, () => ChainAnalysis.Analyze(corpus, engine).Keys.Count);
        Console.WriteLine($"corpus: {corpusMegabytes:F1} MB in {corpus.Count} files");
        Report("corpus: split + normalize + keys", corpusTime, corpusTime, corpusMegabytes);

        var text = SqlChainBenchmarks.ScriptOf(smoke ? 100_000 : 1024 * 1024);
        SqlSource[] edited = [new("script.sql", SqlChainEditBenchmarks.OneCharacterEdit(text, text.Length / 2))];
        var previous = ChainAnalysis.Analyze([new SqlSource("script.sql", text)], engine);
        var full = Median(runs, () => ChainAnalysis.Analyze(edited, engine).Keys.Count);
        var incremental = Median(runs, () => ChainAnalysis.Reanalyze(previous, edited, engine).Keys.Count);
        Console.WriteLine($"edit: 1 character in the middle of {Megabytes(text):F1} MB");
        Report("analyze afresh", full, full, Megabytes(text));
        Report("reanalyze", incremental, full, Megabytes(text));
    }

    private static double Megabytes(string text) => Encoding.UTF8.GetByteCount(text) / (1024.0 * 1024.0);

    private static void Report(string what, TimeSpan time, TimeSpan baseline, double megabytes) =>
        Console.WriteLine($"{what,-34} {time.TotalMilliseconds,8:F2} ms  {megabytes / time.TotalSeconds,7:F1} MB/s  ratio {time / baseline,5:F2}");

    private static TimeSpan Median(int runs, Func<int> action)
    {
        action();
        var times = new List<TimeSpan>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times.Add(watch.Elapsed);
        }

        return times.Order().ElementAt(times.Count / 2);
    }
}
