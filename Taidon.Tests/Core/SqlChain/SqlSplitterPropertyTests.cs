using System.Text;
using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.SqlChain;

/// <summary>Random scripts assembled from the tricky pieces; every failure names its seed.</summary>
public sealed class SqlSplitterPropertyTests
{
    private static readonly string[] Atoms =
    [
        "SELECT", "a", "Tbl", "x$y", "\"Quoted;Id\"", "\"a\"\"b\"", "U&\"d\\0061t\"", "'str;ing'", "'it''s'", "E'esc\\';'", "e'\\\\'",
        "U&'\\0041;'", "B'1010'", "X'FF'", "N'nat'", "$$dollar; 'body'$$", "$fn$ $$ ; $fn$", "$_$--not a comment$_$", "$1", "42", "1.5e3", ".5",
        "+", "-", "*", "/", "<=", "||", "->>", "::", ",", "(x + 1)", "count(*)", "(1;2)", "[1]", "é", "日本",
    ];

    private static readonly string[] Separators = [" ", "\n", "\t", "  \n  ", "-- comment; 'x' $$\n", "/* c; 'q' */", "/* a /* nested; */ b */", "\r\n"];

    [Fact]
    public void RandomInputNeverCrashesAndProblemsHavePositionsInsideTheText()
    {
        const string alphabet = "';\"$-/*\n ()eEU&\\a1.:bx_\t";
        for (var seed = 0; seed < 3000; seed++)
        {
            var random = new Random(seed);
            var text = new string([.. Enumerable.Range(0, random.Next(0, 80)).Select(_ => alphabet[random.Next(alphabet.Length)])]);

            var script = SqlSplitter.Split(text);

            foreach (var problem in script.Problems)
            {
                Assert.InRange(problem.Position.Line, 1, text.Count(c => c == '\n') + 1);
                Assert.InRange(problem.ByteOffset, 0, Encoding.UTF8.GetByteCount(text));
            }

            AssertSpansAreTheText(text, script, seed);
        }
    }

    [Fact]
    public void GeneratedScriptsSplitIntoExactlyTheGeneratedStatementsLosingAndDuplicatingNothing()
    {
        for (var seed = 0; seed < 2000; seed++)
        {
            var (text, expected) = Generate(new Random(seed));

            var script = SqlSplitter.Split(text);

            Assert.True(script.IsValid, $"seed {seed}: {string.Join("; ", script.Problems)}\n{text}");
            var actual = script.Statements.Select(s => s.Text).ToList();
            Assert.True(expected.SequenceEqual(actual), $"seed {seed}:\n{text}\n--- expected:\n{string.Join("\n|", expected)}\n--- actual:\n{string.Join("\n|", actual)}");
            AssertSpansAreTheText(text, script, seed);
        }
    }

    [Fact]
    public void NormalizingANormalizedStatementChangesNothing()
    {
        for (var seed = 0; seed < 2000; seed++)
        {
            var (text, _) = Generate(new Random(seed));

            foreach (var statement in SqlSplitter.Split(text).Statements)
            {
                Assert.True(statement.Normalized == SqlNormalizer.Normalize(statement.Normalized), $"seed {seed}: {statement.Normalized}");
            }
        }
    }

    [Fact]
    public void ReformattingKeepsEveryNormalizedForm()
    {
        for (var seed = 0; seed < 1000; seed++)
        {
            var (first, _) = Generate(new Random(seed), new Random(seed + 1_000_000));
            var (second, _) = Generate(new Random(seed), new Random(seed + 2_000_000));

            Assert.True(
                SqlSplitter.Split(first).Statements.Select(s => s.Normalized).SequenceEqual(SqlSplitter.Split(second).Statements.Select(s => s.Normalized)),
                $"seed {seed}:\n{first}\n---\n{second}");
        }
    }

    /// <summary>
    /// A script of statements made of atoms joined by separators: the atoms come from
    /// <paramref name="shape"/>, the separators from <paramref name="layout"/> (so two layouts of one shape
    /// differ only in whitespace and comments).
    /// </summary>
    internal static (string Text, List<string> Statements) Generate(Random shape, Random? layout = null)
    {
        layout ??= shape;
        var text = new StringBuilder();
        var statements = new List<string>();
        var count = shape.Next(1, 6);
        for (var s = 0; s < count; s++)
        {
            text.Append(Separator(layout));
            var statement = new StringBuilder();
            var atoms = shape.Next(1, 8);
            var previous = "";
            for (var a = 0; a < atoms; a++)
            {
                var atom = Atoms[shape.Next(Atoms.Length)];
                // Two strings in a row would be one continued string, or a syntax error: keep them apart.
                if (IsString(previous) && IsString(atom))
                {
                    atom = ",";
                }

                if (a > 0)
                {
                    var separator = Separator(layout);
                    // "-" then "-- comment" would be one longer comment: psql reads it so, and so do we.
                    statement.Append(previous.EndsWith('-') && separator.StartsWith("--", StringComparison.Ordinal) ? " " + separator : separator);
                }

                statement.Append(atom);
                previous = atom;
            }

            var last = s == count - 1 && shape.Next(4) == 0;
            if (!last)
            {
                statement.Append(layout.Next(3) == 0 ? " " + Separator(layout) : "").Append(';');
            }

            statements.Add(statement.ToString());
            text.Append(statement);
        }

        text.Append(layout.Next(2) == 0 ? "\n-- end\n" : "");
        return (text.ToString(), statements);
    }

    private static string Separator(Random random) => Separators[random.Next(Separators.Length)];

    private static bool IsString(string atom) => atom.EndsWith('\'');

    private static void AssertSpansAreTheText(string text, SqlScript script, int seed)
    {
        var previousEnd = 0;
        foreach (var statement in script.Statements)
        {
            Assert.True(statement.Span.StartIndex >= previousEnd, $"seed {seed}: statements overlap");
            Assert.Equal(text[statement.Span.StartIndex..statement.Span.EndIndex], statement.Text);
            Assert.False(string.IsNullOrWhiteSpace(statement.Normalized), $"seed {seed}: empty statement");
            previousEnd = statement.Span.EndIndex;
        }
    }
}
