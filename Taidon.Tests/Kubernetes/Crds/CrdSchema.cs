using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Taidon.Tests.Kubernetes.Crds;

/// <summary>
/// One served version of a CustomResourceDefinition's openAPIV3Schema, checked against a whole object as the API
/// server checks it, with one difference on purpose: a field the server would prune silently is refused here, so
/// a mistake in what we send shows. Load throws on a schema keyword or a CEL rule that is not checked.
/// </summary>
public sealed partial class CrdSchema
{
    // What Check enforces (format only as date-time, which it ignores); any other keyword makes Load throw.
    private static readonly HashSet<string> Keywords =
    [
        "type", "properties", "required", "items", "enum", "pattern", "oneOf", "format", "description",
        "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-validations",
    ];

    private readonly JsonObject _schema;
    private readonly string _apiVersion;
    private readonly string _kind;

    private CrdSchema(JsonObject schema, string apiVersion, string kind)
    {
        (_schema, _apiVersion, _kind) = (schema, apiVersion, kind);
    }

    public static CrdSchema Load(string crdYamlPath, string version)
    {
        var yaml = new YamlStream();
        using var reader = File.OpenText(crdYamlPath);
        yaml.Load(reader);
        var spec = ToJson(yaml.Documents.Single().RootNode)?["spec"] ?? throw new InvalidDataException($"{crdYamlPath} has no spec");
        var served = spec["versions"]?.AsArray().FirstOrDefault(v => Text(v?["name"]) == version)
            ?? throw new InvalidDataException($"{crdYamlPath} has no version {version}");
        var schema = served["schema"]?["openAPIV3Schema"]?.AsObject() ?? throw new InvalidDataException($"{crdYamlPath} {version} has no openAPIV3Schema");
        Audit(schema, "$");
        return new CrdSchema(schema, $"{Text(spec["group"])}/{version}", Text(spec["names"]?["kind"]) ?? "");
    }

    /// <summary>One message per problem, each starting with the JSON path it is about (<c>$.spec.source: ...</c>).</summary>
    public IReadOnlyList<string> Problems(JsonNode obj)
    {
        var problems = new List<string>();
        foreach (var (field, expected) in new[] { ("apiVersion", _apiVersion), ("kind", _kind) })
        {
            if (Text((obj as JsonObject)?[field]) != expected)
            {
                problems.Add($"$.{field}: must be {expected}");
            }
        }

        problems.AddRange(Check(obj, _schema, "$"));
        return problems;
    }

    private static List<string> Check(JsonNode? node, JsonObject schema, string path)
    {
        // Reached only for an array item or the root: the API server prunes a null field before it validates.
        if (node is null)
        {
            return [$"{path}: must not be null"];
        }

        var type = Text(schema["type"]);
        var intOrString = Flag(schema, "x-kubernetes-int-or-string");
        if (intOrString ? node.GetValueKind() != JsonValueKind.String && !IsInteger(node) : type is not null && !IsType(node, type))
        {
            return [$"{path}: expected {(intOrString ? "integer or string" : type)}, got {Describe(node)}"];
        }

        var problems = new List<string>();
        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, node)))
        {
            problems.Add($"{path}: {Describe(node)} is not one of {allowed.ToJsonString()}");
        }

        if (Text(schema["pattern"]) is { } pattern && node.GetValueKind() == JsonValueKind.String && !Regex.IsMatch(node.GetValue<string>(), pattern))
        {
            problems.Add($"{path}: {Describe(node)} does not match {pattern}");
        }

        if (node is JsonArray array && schema["items"] is JsonObject items)
        {
            problems.AddRange(array.SelectMany((item, i) => Check(item, items, $"{path}[{i}]")));
        }

        // ObjectMeta is validated by the API server itself; the CRD schema says only "type: object".
        if (node is JsonObject obj && path != "$.metadata")
        {
            var properties = schema["properties"] as JsonObject;
            foreach (var (name, value) in obj.Where(p => p.Value is not null))
            {
                if (properties?[name] is JsonObject known)
                {
                    problems.AddRange(Check(value, known, $"{path}.{name}"));
                }
                else if (type == "object" && !Flag(schema, "x-kubernetes-preserve-unknown-fields"))
                {
                    problems.Add($"{path}.{name}: unknown field (the API server would drop it silently)");
                }
            }

            problems.AddRange(Names(schema["required"]).Where(name => obj[name] is null).Select(name => $"{path}.{name}: required field is missing"));
        }

        if (schema["oneOf"] is JsonArray branches && branches.Count(b => Check(node, b!.AsObject(), path).Count == 0) != 1)
        {
            problems.Add($"{path}: exactly one of {string.Join(", ", branches.SelectMany(b => Names(b?["required"])))} is required");
        }

        foreach (var (rule, message) in Rules(schema))
        {
            if (Cel(rule, path) is { } holds && !holds(node))
            {
                problems.Add($"{path}: {message}");
            }
        }

        return problems;
    }

    private static void Audit(JsonObject schema, string path)
    {
        foreach (var (keyword, value) in schema)
        {
            if (!Keywords.Contains(keyword) || (keyword == "format" && Text(value) != "date-time"))
            {
                throw new NotSupportedException($"{path}: CrdSchema does not check {keyword}: {value?.ToJsonString()}");
            }
        }

        if (schema["oneOf"] is JsonArray branches && branches.Any(b => b is not JsonObject { Count: 1 } branch || branch["required"] is not JsonArray))
        {
            throw new NotSupportedException($"{path}: CrdSchema checks only oneOf branches that each list required fields");
        }

        foreach (var (rule, _) in Rules(schema))
        {
            _ = Cel(rule, path);
        }

        foreach (var (name, property) in schema["properties"] as JsonObject ?? new JsonObject())
        {
            Audit(property!.AsObject(), $"{path}.{name}");
        }

        if (schema["items"] is JsonObject items)
        {
            Audit(items, $"{path}[*]");
        }
    }

    private static IEnumerable<(string Rule, string Message)> Rules(JsonObject schema) =>
        schema["x-kubernetes-validations"] is JsonArray rules
            ? rules.Select(r => (Text(r?["rule"]) ?? "", Text(r?["message"]) ?? $"failed rule: {Text(r?["rule"])}"))
            : [];

    // CEL cannot be evaluated here, so each rule shape has a hand-written check. The v1 VolumeSnapshot CRD has:
    //   spec.source.persistentVolumeClaimName and .volumeSnapshotContentName: self == oldSelf (immutable), and
    //   spec.source: !has(oldSelf.X) || has(self.X) for both (required once set): transition rules, which compare
    //     with the stored object, so one object cannot break them: skipped;
    //   spec.source: exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set: checked;
    //   spec.volumeSnapshotClassName: size(self) > 0 (must not be the empty string when set): checked.
    // Any other rule makes Load throw, so a newer CRD cannot bring a rule that the tests would skip.
    private static Func<JsonNode, bool>? Cel(string rule, string path)
    {
        rule = Spaces().Replace(rule, " ").Trim();
        if (rule.Contains("oldSelf", StringComparison.Ordinal))
        {
            return null;
        }

        if (rule == "size(self) > 0")
        {
            return static self => Size(self) > 0;
        }

        var pair = ExactlyOneOf().Match(rule);
        if (!pair.Success)
        {
            throw new NotSupportedException($"{path}: CrdSchema has no hand-written check for the CEL rule {rule}");
        }

        var (first, second) = (pair.Groups[1].Value, pair.Groups[2].Value);
        return self => self is JsonObject o && (o[first] is not null) != (o[second] is not null);
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } plain => Plain(plain.Value ?? ""),
        YamlScalarNode quoted => JsonValue.Create(quoted.Value),
        _ => throw new NotSupportedException($"CrdSchema reads no YAML aliases ({node.Start})"),
    };

    private static JsonNode? Plain(string text) => text switch
    {
        "" or "~" or "null" => null,
        "true" or "false" => JsonValue.Create(text == "true"),
        _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer) => JsonValue.Create(integer),
        _ => JsonValue.Create(text),
    };

    private static bool IsType(JsonNode node, string type) => (type, node.GetValueKind()) switch
    {
        ("object", JsonValueKind.Object) or ("array", JsonValueKind.Array) or ("string", JsonValueKind.String) => true,
        ("boolean", JsonValueKind.True or JsonValueKind.False) or ("number", JsonValueKind.Number) => true,
        ("integer", JsonValueKind.Number) => IsInteger(node),
        _ => false,
    };

    private static bool IsInteger(JsonNode node) =>
        node.GetValueKind() == JsonValueKind.Number && long.TryParse(node.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);

    private static int Size(JsonNode node) => node is JsonObject o ? o.Count : node is JsonArray a ? a.Count : node.GetValue<string>().Length;

    private static IEnumerable<string> Names(JsonNode? list) => list is JsonArray names ? names.Select(n => Text(n) ?? "") : [];

    private static bool Flag(JsonNode? schema, string keyword) => schema is JsonObject o && o[keyword]?.GetValueKind() == JsonValueKind.True;

    private static string? Text(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static string Describe(JsonNode node) => node is JsonObject ? "an object" : node is JsonArray ? "an array" : node.ToJsonString();

    [GeneratedRegex(@"^\(has\(self\.(\w+)\) && !has\(self\.(\w+)\)\) \|\| \(!has\(self\.\1\) && has\(self\.\2\)\)$")]
    private static partial Regex ExactlyOneOf();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
