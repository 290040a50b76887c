using System.Text.RegularExpressions;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

/// <summary>
/// What the probe after a statement cannot see of the session. PostgreSQL lists no custom variable (a
/// "taidon.mark" made by set_config, or by a SET inside a function's body) in pg_settings, and no order
/// of the sequences a session used (lastval), so a statement that may set one changes the session
/// unseen: from the first statement of a chain that may do so on, no state is certain once the session
/// ends (no layer, no fact that a statement changed nothing, and the next run restores). The text is all
/// there is to go by, so the rule errs wide: a name written in a way that hides it (U&amp;"..."), SQL run from a
/// string (EXECUTE in a body, query_to_xml, ts_stat), lastval and DISCARD count too.
/// </summary>
public static partial class SessionEffects
{
    private static readonly string[] Mentions = ["set_config", "u&\"", "lastval", "to_xml", "ts_stat"];

    /// <summary>Whether the statement (a call, or a function or DO body) may set a session variable the probe does not list.</summary>
    public static bool MaySetUnlistedSetting(SqlStatement statement)
    {
        var text = statement.Normalized;
        if (statement.Kind == StatementKind.Session)
        {
            // SET and RESET are applied again after a restore; DISCARD also forgets what currval and lastval knew.
            return text.StartsWith("discard", StringComparison.OrdinalIgnoreCase);
        }

        return Mentions.Any(m => text.Contains(m, StringComparison.OrdinalIgnoreCase))
            || (MayRunCode(statement) && !IsTrigger(text) && (text.Contains("execute", StringComparison.OrdinalIgnoreCase) || SetOfCustomVariable().IsMatch(text)));
    }

    /// <summary>
    /// CREATE TRIGGER names its function in an EXECUTE FUNCTION clause and has no body: it runs nothing. The
    /// function it fires was judged when it was made (its EXECUTE or SET in its body count there).
    /// </summary>
    private static bool IsTrigger(string text) => CreateTrigger().IsMatch(text);

    [GeneratedRegex(@"^\s*create\s+(or\s+replace\s+)?(constraint\s+|event\s+)?trigger\s", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CreateTrigger();

    /// <summary>The index of the first statement before <paramref name="end"/> that may set one, or <paramref name="end"/> when none does.</summary>
    public static int FirstUnlistedSetting(IReadOnlyList<SqlStatement> statements, int end)
    {
        for (var i = 0; i < end; i++)
        {
            if (MaySetUnlistedSetting(statements[i]))
            {
                return i;
            }
        }

        return end;
    }

    /// <summary>
    /// Whether the statement brings code of the student's into the session (a function, procedure, trigger,
    /// extension or DO block): the only way, besides SET and set_config, to change a setting of the session.
    /// </summary>
    public static bool MayRunCode(SqlStatement statement) =>
        statement.Normalized.StartsWith("do", StringComparison.OrdinalIgnoreCase)
        || statement.Normalized.Contains("function", StringComparison.OrdinalIgnoreCase)
        || statement.Normalized.Contains("procedure", StringComparison.OrdinalIgnoreCase)
        || statement.Normalized.Contains("extension", StringComparison.OrdinalIgnoreCase);

    /// <summary>The index of the first statement before <paramref name="end"/> that may bring code into the session, or <paramref name="end"/>.</summary>
    public static int FirstCode(IReadOnlyList<SqlStatement> statements, int end)
    {
        for (var i = 0; i < end; i++)
        {
            if (MayRunCode(statements[i]))
            {
                return i;
            }
        }

        return end;
    }

    // SET or RESET of a dotted name (custom variables have a prefix), as a function body would write it,
    // comments between the words included.
    [GeneratedRegex(@"\b(set|reset)(\s|/\*[\s\S]*?\*/|--[^\n]*\n)+(session(\s|/\*[\s\S]*?\*/)+)?""?[a-z_][a-z0-9_$]*""?\s*\.", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SetOfCustomVariable();
}
