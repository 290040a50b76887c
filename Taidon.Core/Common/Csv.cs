using System.Text;
using System.Text.RegularExpressions;

namespace Taidon.Core.Common;

/// <summary>
/// CSV (RFC 4180) for every export: NULL is an empty field, an empty text a quoted one, quotes where
/// needed, and no cell that a spreadsheet would run as a formula.
/// </summary>
public static partial class Csv
{
    /// <summary>One line of cells, ended by CRLF.</summary>
    public static string Line(IEnumerable<string?> cells)
    {
        var line = new StringBuilder();
        AppendLine(line, cells);
        return line.ToString();
    }

    public static void AppendLine(StringBuilder csv, IEnumerable<string?> cells)
    {
        var first = true;
        foreach (var cell in cells)
        {
            if (!first)
            {
                csv.Append(',');
            }

            first = false;
            csv.Append(Cell(cell));
        }

        csv.Append("\r\n");
    }

    /// <summary>
    /// One cell. Text a student or a visitor chose reaches exports (results, the audit log): one that
    /// starts with <c>= + - @</c>, a tab or a carriage return gets a leading single quote, as OWASP
    /// advises, so a spreadsheet shows it as text instead of running it. A plain number ("-5") stays a
    /// number: it runs nothing, and results are full of them.
    /// </summary>
    public static string Cell(string? value)
    {
        if (value is null)
        {
            return "";
        }

        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !PlainNumber().IsMatch(value))
        {
            value = "'" + value;
        }

        return value.Length == 0 || value.AsSpan().IndexOfAny(",\"\r\n") >= 0
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
    }

    [GeneratedRegex(@"^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainNumber();
}
