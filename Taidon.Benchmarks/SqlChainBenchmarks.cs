using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Taidon.Core.SqlChain;

namespace Taidon.Benchmarks;

/// <summary>
/// Split + normalize + hash of a 10 MB script (the editor calls this on every pause in typing).
/// The baseline is one SHA-256 over the whole text: the least any keyed chain must cost.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class SqlChainBenchmarks
{
    private static readonly EngineIdentity Engine = EngineIdentity.PostgreSql(15);

    private string _script = "";

    public static int ScriptBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _script = ScriptOf(10 * 1024 * 1024);
        ScriptBytes = Encoding.UTF8.GetByteCount(_script);
    }

    [Benchmark(Baseline = true, Description = "SHA-256 of the text (baseline)")]
    public byte[] HashWholeText() => SHA256.HashData(Encoding.UTF8.GetBytes(_script));

    [Benchmark(Description = "split + normalize")]
    public int Split() => SqlSplitter.Split(_script).Statements.Count;

    [Benchmark(Description = "split + normalize + chain keys")]
    public ChainKey SplitAndKey()
    {
        var statements = SqlSplitter.Split(_script).Statements;
        return ChainKeys.Compute(Engine, statements)[^1];
    }

    /// <summary>
    /// The splitter's oracle corpus (every kind of quote, comment, COPY data and string mode psql knows),
    /// each file a source of one session, repeated to about <paramref name="bytes"/> bytes.
    /// </summary>
    public static IReadOnlyList<SqlSource> CorpusOf(int bytes)
    {
        var corpus = Directory.EnumerateFiles(Path.Combine(Repository.Root, "Taidon.Tests", "Core", "SqlChain", "Corpus"), "*.sql")
            .Order(StringComparer.Ordinal)
            .Select(path => new SqlSource(Path.GetFileName(path), File.ReadAllText(path)))
            .ToList();
        var sources = new List<SqlSource>();
        for (var total = 0; total < bytes;)
        {
            var file = corpus[sources.Count % corpus.Count];
            sources.Add(file with { Path = $"{sources.Count / corpus.Count}/{file.Path}" });
            total += file.Text.Length;
        }

        return sources;
    }

    /// <summary>A realistic script of about <paramref name="bytes"/> bytes: schema, functions, comments, many inserts.</summary>
    public static string ScriptOf(int bytes)
    {
        var text = new StringBuilder(bytes + 4096);
        var i = 0;
        while (text.Length < bytes)
        {
            text.Append("-- customer ").Append(i).Append('\n');
            text.Append("CREATE TABLE IF NOT EXISTS customers_").Append(i % 50).Append(" (\n    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    name text NOT NULL,\n    note text DEFAULT 'it''s new' /* default */\n);\n");
            for (var r = 0; r < 20; r++)
            {
                text.Append("INSERT INTO customers_").Append(i % 50).Append(" (name, note) VALUES ('Customer ").Append(i).Append('-').Append(r)
                    .Append("', E'line\\none; \"quoted\"');\n");
            }

            text.Append("CREATE OR REPLACE FUNCTION total_").Append(i).Append("(c bigint) RETURNS numeric LANGUAGE plpgsql AS $fn$\nBEGIN\n  -- sum; with semicolons\n  RETURN (SELECT sum(amount) FROM orders WHERE customer = c);\nEND;\n$fn$;\n");
            text.Append("SELECT name, count(*) FROM customers_").Append(i % 50).Append(" WHERE name LIKE 'C%' GROUP BY name ORDER BY 2 DESC LIMIT 10;\n\n");
            i++;
        }

        return text.ToString();
    }
}
