using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.SqlChain;

/// <summary>psql and Taidon agree, statement by statement, on every script of the corpus.</summary>
public sealed class PsqlOracleTests(PsqlOracle psql) : IClassFixture<PsqlOracle>
{
    private static readonly string CorpusDirectory = Path.Combine(AppContext.BaseDirectory, "Core", "SqlChain", "Corpus");

    public static TheoryData<string> CorpusFiles()
    {
        var files = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(CorpusDirectory, "*.sql").Order(StringComparer.Ordinal))
        {
            files.Add(Path.GetFileName(file));
        }

        return files;
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public async Task TaidonSplitsTheScriptWherePsqlDoes(string file)
    {
        var path = Path.Combine(CorpusDirectory, file);
        var ours = SqlSplitter.Split(await File.ReadAllTextAsync(path), file);
        Assert.True(ours.IsValid, string.Join("\n", ours.Problems));

        // psql sends a lone ';' or a trailing comment as an empty query; Taidon makes no statement of it.
        var theirs = (await psql.StatementsSentByPsqlAsync(path)).Where(s => StripComments(s).Trim().Trim(';').Trim().Length > 0).ToList();

        var differences = new List<string>();
        for (var i = 0; i < Math.Max(theirs.Count, ours.Statements.Count); i++)
        {
            var sent = i < theirs.Count ? theirs[i] : "(nothing)";
            var split = i < ours.Statements.Count ? ours.Statements[i] : null;
            if (split is null || !Same(sent, split.Text))
            {
                differences.Add($"statement {i + 1} (line {split?.Span.Start.Line}):\n  psql sent: {sent}\n  Taidon:    {split?.Text ?? "(nothing)"}");
            }
        }

        Assert.True(differences.Count == 0, $"{file}: {theirs.Count} statements from psql, {ours.Statements.Count} from Taidon\n{string.Join("\n", differences.Take(5))}");
    }

    /// <summary>
    /// Scripts that end with a psql meta-command, with or without a semicolon before it: Taidon refuses the
    /// command with a problem, and splits the SQL before it as psql sends it (\g and its kind send the
    /// statement typed so far, \r drops it, the others leave it for the end of the script).
    /// </summary>
    [Theory]
    [InlineData("SELECT 1\n\\echo hi", "\\echo")]
    [InlineData("SELECT 1\n\\echo hi\n", "\\echo")]
    [InlineData("SELECT 1 \\echo hi", "\\echo")]
    [InlineData("SELECT 1;\n\\echo hi", "\\echo")]
    [InlineData("SELECT 1\n-- the total\n\\gset\n", "\\gset")]
    [InlineData("SELECT 1 AS total \\gset", "\\gset")]
    [InlineData("SELECT 1 \\g\nSELECT 2", "\\g")]
    [InlineData("SELECT 1\n\\gx\nSELECT 2;\n", "\\gx")]
    [InlineData("SELECT 1\n\\r\nSELECT 2", "\\r")]
    [InlineData("SELECT 1;\nSELECT 2\n/* last */ \\echo done\n", "\\echo")]
    public async Task TaidonSplitsTheSqlBeforeAMetaCommandWherePsqlDoes(string script, string command)
    {
        var path = Path.Combine(Path.GetTempPath(), $"taidon-meta-{Guid.NewGuid():N}.sql");
        await File.WriteAllTextAsync(path, script);
        try
        {
            var ours = SqlSplitter.Split(script, "meta.sql");
            var theirs = (await psql.StatementsSentByPsqlAsync(path)).Where(s => StripComments(s).Trim().Trim(';').Trim().Length > 0).ToList();

            Assert.Equal(theirs.Count, ours.Statements.Count);
            Assert.All(theirs.Zip(ours.Statements), pair => Assert.True(Same(pair.First, pair.Second.Text), $"psql sent: {pair.First}\nTaidon:    {pair.Second.Text}"));
            var problem = Assert.Single(ours.Problems);
            Assert.Contains($"The psql command {command} ", problem.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// The same statement, but for what psql is known to change: it keeps a leading comment and the
    /// trailing comment of a last statement without a semicolon, and drops empty lines.
    /// </summary>
    private static bool Same(string sent, string text)
    {
        var theirs = WithoutEmptyLines(StripComments(sent)).TrimEnd();
        var ours = WithoutEmptyLines(text).TrimEnd();
        return theirs == ours
            || (!ours.EndsWith(';') && theirs.StartsWith(ours, StringComparison.Ordinal) && StripComments(theirs[ours.Length..]).Trim().Length == 0);
    }

    /// <summary>Removes the comments and whitespace a text starts with.</summary>
    private static string StripComments(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            else if (text.AsSpan(i).StartsWith("--"))
            {
                var newline = text.IndexOf('\n', i);
                i = newline < 0 ? text.Length : newline + 1;
            }
            else if (text.AsSpan(i).StartsWith("/*"))
            {
                var depth = 0;
                do
                {
                    if (text.AsSpan(i).StartsWith("/*"))
                    {
                        depth++;
                        i += 2;
                    }
                    else if (text.AsSpan(i).StartsWith("*/"))
                    {
                        depth--;
                        i += 2;
                    }
                    else
                    {
                        i++;
                    }
                }
                while (depth > 0 && i < text.Length);
            }
            else
            {
                break;
            }
        }

        return text[i..];
    }

    private static string WithoutEmptyLines(string text)
    {
        while (text.Contains("\n\n", StringComparison.Ordinal))
        {
            text = text.Replace("\n\n", "\n", StringComparison.Ordinal);
        }

        return text;
    }
}
