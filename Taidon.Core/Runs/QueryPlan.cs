using System.Text.Json;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

/// <summary>One node of an executed plan, as EXPLAIN (ANALYZE) reports it: what it did, on what, how long and how many rows.</summary>
public sealed record PlanNode(
    string NodeType,
    string? On,
    string? Detail,
    double? ActualTotalMs,
    long? ActualRows,
    long? PlanRows,
    long Loops,
    IReadOnlyList<PlanNode> Children);

/// <summary>A benchmarked statement: its execution times over the repetitions and the plan of the last one.</summary>
public sealed record StatementBenchmark(int Index, IReadOnlyList<double> ExecutionMs, double PlanningMs, PlanNode Plan)
{
    public double MedianMs => QueryPlans.Median(ExecutionMs);

    public double MinMs => ExecutionMs.Min();

    public double MaxMs => ExecutionMs.Max();
}

public static class QueryPlans
{
    private static readonly string[] ExplainableStarts = ["select", "with", "values", "table", "insert", "update", "delete", "merge", "execute"];

    /// <summary>Whether EXPLAIN ANALYZE can time the statement (queries and data changes; not DDL, SET or transaction control).</summary>
    public static bool IsExplainable(SqlStatement statement)
    {
        if (statement.Kind != StatementKind.Other)
        {
            return false;
        }

        var text = statement.Normalized.TrimStart('(', ' ');
        var first = text.Split([' ', '\n', '\t', '('], 2)[0];
        return ExplainableStarts.Contains(first, StringComparer.OrdinalIgnoreCase);
    }

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("A median needs at least one value.", nameof(values));
        }

        var sorted = values.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>Reads the output of <c>EXPLAIN (ANALYZE, FORMAT JSON)</c>: the plan tree and the execution and planning times.</summary>
    public static (PlanNode Plan, double ExecutionMs, double PlanningMs) Parse(string explainJson)
    {
        using var document = JsonDocument.Parse(explainJson);
        var top = document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement[0] : document.RootElement;
        var execution = top.TryGetProperty("Execution Time", out var e) ? e.GetDouble() : 0;
        var planning = top.TryGetProperty("Planning Time", out var p) ? p.GetDouble() : 0;
        return (Node(top.GetProperty("Plan")), execution, planning);
    }

    private static PlanNode Node(JsonElement node)
    {
        var type = Text(node, "Node Type") ?? "?";
        if (Text(node, "Join Type") is { } join && (type.EndsWith("Join", StringComparison.Ordinal) || type == "Nested Loop"))
        {
            type = $"{type} ({join})";
        }

        var relation = Text(node, "Relation Name") is { } r
            ? (Text(node, "Alias") is { } alias && alias != r ? $"{r} {alias}" : r)
            : Text(node, "CTE Name") is { } cte ? $"CTE {cte}" : Text(node, "Function Name");
        var on = Text(node, "Index Name") is { } index ? (relation is null ? index : $"{relation} using {index}") : relation;
        var detail = Text(node, "Index Cond") ?? Text(node, "Hash Cond") ?? Text(node, "Merge Cond") ?? Text(node, "Filter")
            ?? Text(node, "Join Filter") ?? Keys(node, "Sort Key") ?? Keys(node, "Group Key");
        var children = node.TryGetProperty("Plans", out var plans) ? plans.EnumerateArray().Select(Node).ToList() : [];
        return new PlanNode(type, on, detail, Number(node, "Actual Total Time"), Long(node, "Actual Rows"), Long(node, "Plan Rows"), Long(node, "Actual Loops") ?? 1, children);
    }

    private static string? Text(JsonElement node, string name) =>
        node.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? Keys(JsonElement node, string name) =>
        node.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? $"{name.ToLowerInvariant()}: " + string.Join(", ", value.EnumerateArray().Select(k => k.GetString()))
            : null;

    private static double? Number(JsonElement node, string name) =>
        node.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    private static long? Long(JsonElement node, string name) =>
        node.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? (long)value.GetDouble()
            : null;
}
