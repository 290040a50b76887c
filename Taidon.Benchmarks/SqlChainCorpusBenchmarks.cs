using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Taidon.Core.SqlChain;

namespace Taidon.Benchmarks;

/// <summary>
/// Split + normalize + hash of the splitter's corpus repeated to 4 MB (as files of one session): the
/// hard cases (quotes, comments, COPY data, string modes) instead of the 10 MB script's plain SQL.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class SqlChainCorpusBenchmarks
{
    private static readonly EngineIdentity Engine = EngineIdentity.PostgreSql(15);

    private IReadOnlyList<SqlSource> _sources = [];

    [GlobalSetup]
    public void Setup() => _sources = SqlChainBenchmarks.CorpusOf(4 * 1024 * 1024);

    [Benchmark(Baseline = true, Description = "SHA-256 of the corpus (baseline)")]
    public int HashCorpus()
    {
        var total = 0;
        foreach (var source in _sources)
        {
            total += SHA256.HashData(Encoding.UTF8.GetBytes(source.Text))[0];
        }

        return total;
    }

    [Benchmark(Description = "corpus: split + normalize + chain keys")]
    public ChainKey SplitAndKey() => ChainKeys.Compute(Engine, SqlSplitter.Split(_sources).Statements)[^1];
}
