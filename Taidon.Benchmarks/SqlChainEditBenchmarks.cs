using BenchmarkDotNet.Attributes;
using Taidon.Core.SqlChain;

namespace Taidon.Benchmarks;

/// <summary>
/// What the editor pays on a pause in typing: a 1 MB script analyzed afresh (the baseline) against
/// <see cref="ChainAnalysis.Reanalyze"/> after a one-character edit, in the middle and at the start
/// (where every key after the edit is computed again).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class SqlChainEditBenchmarks
{
    private static readonly EngineIdentity Engine = EngineIdentity.PostgreSql(15);

    private AnalyzedChain _previous = null!;
    private SqlSource[] _editedInTheMiddle = [];
    private SqlSource[] _editedAtTheStart = [];

    [GlobalSetup]
    public void Setup()
    {
        var text = SqlChainBenchmarks.ScriptOf(1024 * 1024);
        _previous = ChainAnalysis.Analyze([new SqlSource("script.sql", text)], Engine);
        _editedInTheMiddle = [new SqlSource("script.sql", OneCharacterEdit(text, text.Length / 2))];
        _editedAtTheStart = [new SqlSource("script.sql", OneCharacterEdit(text, 0))];
    }

    [Benchmark(Baseline = true, Description = "1 MB: analyze afresh")]
    public AnalyzedChain Analyze() => ChainAnalysis.Analyze(_editedInTheMiddle, Engine);

    [Benchmark(Description = "1 MB: reanalyze after 1 character, middle")]
    public AnalyzedChain ReanalyzeMiddle() => ChainAnalysis.Reanalyze(_previous, _editedInTheMiddle, Engine);

    [Benchmark(Description = "1 MB: reanalyze after 1 character, start")]
    public AnalyzedChain ReanalyzeStart() => ChainAnalysis.Reanalyze(_previous, _editedAtTheStart, Engine);

    /// <summary>A digit typed into the first INSERT's values at or after <paramref name="near"/>: the statement, and its key, change.</summary>
    public static string OneCharacterEdit(string text, int near)
    {
        var at = text.IndexOf("VALUES ('Customer ", near, StringComparison.Ordinal) + "VALUES ('Customer ".Length;
        return text.Insert(at, "7");
    }
}
