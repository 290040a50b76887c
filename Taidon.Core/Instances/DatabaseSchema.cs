namespace Taidon.Core.Instances;

/// <summary>A column as the schema browser shows it: name, type as PostgreSQL formats it, nullability.</summary>
public sealed record SchemaColumn(string Name, string Type, bool NotNull);

/// <summary>A table, view, materialized view or foreign table, with its columns and indexes.</summary>
public sealed record SchemaRelation(string Schema, string Name, string Kind, IReadOnlyList<SchemaColumn> Columns, IReadOnlyList<string> Indexes);

public sealed record SchemaFunction(string Schema, string Name, string Arguments, string Result);

/// <summary>What a student's database holds now, outside the system schemas.</summary>
public sealed record DatabaseSchema(IReadOnlyList<SchemaRelation> Relations, IReadOnlyList<SchemaFunction> Functions)
{
    public IEnumerable<string> Schemas => Relations.Select(r => r.Schema).Concat(Functions.Select(f => f.Schema)).Distinct().Order(StringComparer.Ordinal);
}

/// <summary>Reads an instance's schema as its student sees it.</summary>
public interface ISchemaReader
{
    Task<DatabaseSchema> ReadAsync(InstanceConnection connection, CancellationToken cancellationToken);
}
