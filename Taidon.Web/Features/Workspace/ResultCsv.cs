using System.Text;
using Taidon.Core.Runs;

namespace Taidon.Web.Features.Workspace;

/// <summary>A result set as CSV (RFC 4180): a header of column names, NULL as an empty field, quotes where needed.</summary>
public static class ResultCsv
{
    public static string Of(ResultSet result)
    {
        var csv = new StringBuilder();
        AppendLine(csv, result.Columns.Select(c => c.Name));
        foreach (var row in result.Rows)
        {
            AppendLine(csv, row);
        }

        return csv.ToString();
    }

    private static void AppendLine(StringBuilder csv, IEnumerable<string?> fields)
    {
        var first = true;
        foreach (var field in fields)
        {
            if (!first)
            {
                csv.Append(',');
            }

            first = false;
            if (field is null)
            {
                continue;
            }

            if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0 || field.Length == 0)
            {
                csv.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                csv.Append(field);
            }
        }

        csv.Append("\r\n");
    }
}
