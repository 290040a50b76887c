using System.Text;
using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.SqlChain;

/// <summary>
/// <see cref="ChainAnalysis.Reanalyze"/> after random edits (the characters that change how the rest of
/// a script reads among them) equals a fresh <see cref="ChainAnalysis.Analyze"/>; every failure names its seed.
/// </summary>
public sealed class IncrementalAnalysisTests
{
    private static readonly EngineIdentity Engine = EngineIdentity.PostgreSql(15);

    private static readonly string[] Insertions =
    [
        "'", "\"", "$$", "$fn$", "/*", "*/", "--", ";", "\n", "(", ")", "\\", "E'", "a", " ", "1", "$", "-", "*", "\\.\n",
        "begin ", "end;", "case ", "create function f() returns int begin atomic ", "\nSET standard_conforming_strings = off;\n",
        "\nRESET standard_conforming_strings;\n", "BEGIN;\n", "ROLLBACK;\n", "\nCOPY t FROM STDIN;\n1\t2\n", "SELECT 'a\\'b';\n",
        "\\echo hi\n", "\\g\n", "\\r\n", "é", "\r\n",
    ];

    private static readonly string CorpusDirectory = Path.Combine(AppContext.BaseDirectory, "Core", "SqlChain", "Corpus");

    [Fact]
    public void ReanalyzingEditedCorpusScriptsEqualsAnalyzingThemAfresh()
    {
        var files = Directory.EnumerateFiles(CorpusDirectory, "*.sql").Order(StringComparer.Ordinal).ToList();
        for (var seed = 0; seed < 400; seed++)
        {
            var path = files[seed % files.Count];
            AssertEditsKeepEquality([new SqlSource(Path.GetFileName(path), File.ReadAllText(path))], new Random(seed), edits: 12, $"seed {seed} ({Path.GetFileName(path)})");
        }
    }

    [Fact]
    public void ReanalyzingEditedGeneratedScriptsEqualsAnalyzingThemAfresh()
    {
        for (var seed = 0; seed < 1500; seed++)
        {
            var random = new Random(seed);
            var text = string.Concat(Enumerable.Range(0, random.Next(1, 4)).Select(_ => SqlSplitterPropertyTests.Generate(random).Text + "\n"));
            AssertEditsKeepEquality([new SqlSource("g.sql", text)], random, edits: 8, $"seed {seed}");
        }
    }

    [Fact]
    public void ReanalyzingAnEditOfOneOfSeveralFilesEqualsAnalyzingThemAfresh()
    {
        for (var seed = 0; seed < 600; seed++)
        {
            var random = new Random(seed);
            var sources = Enumerable.Range(0, 3).Select(i => new SqlSource($"f{i}.sql", SqlSplitterPropertyTests.Generate(random).Text)).ToArray();
            AssertEditsKeepEquality(sources, random, edits: 8, $"seed {seed}");
        }
    }

    [Fact]
    public void AnEditReadsOnlyAroundItAndMovesTheStatementsAfterIt()
    {
        var text = string.Concat(Enumerable.Range(0, 200).Select(i => $"INSERT INTO t VALUES ({i}, 'x');\n"));
        var before = ChainAnalysis.Analyze([new SqlSource("s.sql", text)], Engine);

        var after = ChainAnalysis.Reanalyze(before, [new SqlSource("s.sql", text.Insert(text.Length / 2, "-- note\n"))], Engine);

        Assert.True(after.Statements[^1].NormalizedUtf8.Overlaps(before.Statements[^1].NormalizedUtf8), "the last statement was split again");
        Assert.Equal(before.Statements[^1].Span.Start.Line + 1, after.Statements[^1].Span.Start.Line);
        Assert.Equal(before.Keys, after.Keys);
    }

    [Fact]
    public void ANewFileOrAnotherEngineIsAnalyzedAfresh()
    {
        var first = ChainAnalysis.Analyze([new SqlSource("a.sql", "SELECT 1;")], Engine);

        var added = ChainAnalysis.Reanalyze(first, [new SqlSource("a.sql", "SELECT 1;"), new SqlSource("b.sql", "SELECT 2;")], Engine);
        var otherEngine = ChainAnalysis.Reanalyze(first, [new SqlSource("a.sql", "SELECT 1;")], EngineIdentity.PostgreSql(16));

        AssertSame(ChainAnalysis.Analyze([new SqlSource("a.sql", "SELECT 1;"), new SqlSource("b.sql", "SELECT 2;")], Engine), added, "added file");
        AssertSame(ChainAnalysis.Analyze([new SqlSource("a.sql", "SELECT 1;")], EngineIdentity.PostgreSql(16)), otherEngine, "other engine");
    }

    /// <summary>Applies random edits one after another, each time reanalyzing the previous reanalysis.</summary>
    private static void AssertEditsKeepEquality(SqlSource[] sources, Random random, int edits, string what)
    {
        var chain = ChainAnalysis.Analyze(sources, Engine);
        for (var e = 0; e < edits; e++)
        {
            var at = random.Next(sources.Length);
            var text = sources[at].Text;
            var position = random.Next(text.Length + 1);
            var edited = random.Next(3) == 0 && text.Length > 0
                ? text.Remove(Math.Min(position, text.Length - 1), Math.Min(random.Next(1, 4), text.Length - Math.Min(position, text.Length - 1)))
                : text.Insert(position, Insertions[random.Next(Insertions.Length)]);
            sources = [.. sources];
            sources[at] = sources[at] with { Text = edited };

            chain = ChainAnalysis.Reanalyze(chain, sources, Engine);

            AssertSame(ChainAnalysis.Analyze(sources, Engine), chain, $"{what}, edit {e} at {position} of {sources[at].Path}:\n{edited}");
        }
    }

    private static void AssertSame(AnalyzedChain expected, AnalyzedChain actual, string what)
    {
        Assert.True(expected.Statements.Count == actual.Statements.Count, $"{what}\nstatements: {Describe(expected)}\n---\n{Describe(actual)}");
        for (var i = 0; i < expected.Statements.Count; i++)
        {
            var (e, a) = (expected.Statements[i], actual.Statements[i]);
            Assert.True(
                e.Index == a.Index && e.Text == a.Text && e.Normalized == a.Normalized && e.Span == a.Span && e.Kind == a.Kind && e.CopyData == a.CopyData,
                $"{what}\nstatement {i}: {e.Span} {e.Kind} {e.Text}\n  vs {a.Span} {a.Kind} {a.Text}");
        }

        Assert.True(expected.Keys.SequenceEqual(actual.Keys), $"{what}\nkeys differ");
        Assert.True(expected.Problems.SequenceEqual(actual.Problems), $"{what}\nproblems: {string.Join("; ", expected.Problems)}\n---\n{string.Join("; ", actual.Problems)}");
    }

    private static string Describe(AnalyzedChain chain)
    {
        var text = new StringBuilder();
        foreach (var statement in chain.Statements)
        {
            text.Append(statement.Span.StartIndex).Append('-').Append(statement.Span.EndIndex).Append(": ").AppendLine(statement.Text);
        }

        return text.ToString();
    }
}
