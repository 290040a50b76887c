using System.Text.RegularExpressions;
using Taidon.Core.Instances;

namespace Taidon.Web.Features.Workspace;

/// <summary>The names of the instance's current state that the editor completes: schemas, tables, views, their columns, functions.</summary>
public static partial class SchemaCompletions
{
    private const int MaxWords = 5000;

    public static IReadOnlyList<CompletionWord> From(DatabaseSchema? schema)
    {
        if (schema is null)
        {
            return [];
        }

        var words = new List<CompletionWord>();
        foreach (var name in schema.Schemas.Where(s => s != "public"))
        {
            words.Add(new CompletionWord(name, Quote(name), "schema", "schema"));
        }

        foreach (var relation in schema.Relations)
        {
            var name = Qualified(relation.Schema, relation.Name);
            var kind = relation.Kind.Contains("view", StringComparison.OrdinalIgnoreCase) ? "view" : "table";
            words.Add(new CompletionWord(name.Label, name.Insert, kind, $"{relation.Kind} · {relation.Columns.Count} columns"));
        }

        // A column name shared by several tables is offered once, naming them.
        foreach (var column in schema.Relations
            .SelectMany(r => r.Columns.Select(c => (Relation: r, Column: c)))
            .GroupBy(x => x.Column.Name, StringComparer.Ordinal))
        {
            var first = column.First();
            var where = string.Join(", ", column.Select(x => x.Relation.Name).Distinct(StringComparer.Ordinal).Take(4));
            words.Add(new CompletionWord(column.Key, Quote(column.Key), "column", $"{first.Column.Type} · {where}"));
        }

        foreach (var function in schema.Functions.DistinctBy(f => (f.Schema, f.Name)))
        {
            var name = Qualified(function.Schema, function.Name);
            words.Add(new CompletionWord(name.Label, name.Insert, "function", $"({function.Arguments}) → {function.Result}"));
        }

        return words.Count > MaxWords ? words[..MaxWords] : words;
    }

    private static (string Label, string Insert) Qualified(string schema, string name) =>
        schema == "public" ? (name, Quote(name)) : ($"{schema}.{name}", $"{Quote(schema)}.{Quote(name)}");

    /// <summary>An identifier as SQL must spell it: as is when it folds to itself, else in double quotes.</summary>
    public static string Quote(string identifier) =>
        PlainIdentifier().IsMatch(identifier) ? identifier : "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    [GeneratedRegex("^[a-z_][a-z0-9_$]*$")]
    private static partial Regex PlainIdentifier();
}
