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
