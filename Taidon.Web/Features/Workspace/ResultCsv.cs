using System.Text;
using Taidon.Core.Common;
using Taidon.Core.Runs;

namespace Taidon.Web.Features.Workspace;

/// <summary>A result set as CSV (see <see cref="Csv"/>): a header of column names, then the rows.</summary>
public static class ResultCsv
{
    public static string Of(ResultSet result)
    {
        var csv = new StringBuilder();
        Csv.AppendLine(csv, result.Columns.Select(c => c.Name));
        foreach (var row in result.Rows)
        {
            Csv.AppendLine(csv, row);
        }

        return csv.ToString();
    }
}
