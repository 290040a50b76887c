namespace Taidon.Core.SqlChain;

/// <summary>
/// Splits SQL scripts into statements exactly where psql would send them to the server, and gives
/// each its normalized form (see <see cref="SqlNormalizer"/>) and its place in the file.
/// </summary>
/// <remarks>
/// Like psql, a semicolon ends a statement only outside parentheses and outside the
/// <c>BEGIN ... END</c> body of <c>CREATE [OR REPLACE] FUNCTION|PROCEDURE</c>; strings follow
/// <c>standard_conforming_strings</c> as the script sets it, from the line after the SET.
/// psql meta-commands are refused with a problem that says what to write instead;
/// <c>COPY ... FROM STDIN</c> takes its data from the lines that follow, up to <c>\.</c>.
/// </remarks>
public static class SqlSplitter
{
    public static SqlScript Split(string text, string file = "script.sql") => Split([new SqlSource(file, text)]);

    /// <summary>Splits several files as one session (a setting made in one file holds in the next).</summary>
    public static SqlScript Split(IReadOnlyList<SqlSource> sources)
    {
        var output = new SplitOutput(sources.Sum(s => s.Text.Length));
        var session = new SessionStrings();
        var files = new SplitFile[sources.Count];
        for (var i = 0; i < sources.Count; i++)
        {
            var file = new SourceText(sources[i]);
            files[i] = new SplitFile(file, output.Statements.Count, output.Problems.Count, session.State);
            new ScriptSplitter(file, session, output).Run();
        }

        return new SqlScript(output.Statements, output.Problems) { Trace = new SplitTrace(files, output.Checkpoints, session.State) };
    }
}
