using Npgsql;
using Taidon.Core.Instances;

namespace Taidon.Infrastructure.Sql;

/// <summary>
/// The schema from pg_catalog, over the student's own login (so it shows what the student may see) but with
/// the platform's session settings (<see cref="NpgsqlSqlSessionFactory.PlatformConnectionString"/>): names are
/// qualified, each list is capped in rows and each text in length, so a student's catalog cannot make the
/// page hang or fill the server's memory.
/// </summary>
public sealed class NpgsqlSchemaReader : ISchemaReader
{
    /// <summary>The most relations' columns, indexes and functions the schema lists, each.</summary>
    public const string MaxRows = "5000";

    private const string Hidden = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

    private const string RelationsSql = $"""
        SELECT n.nspname, c.relname,
               CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' ELSE 'table' END,
               a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND {Hidden}
        ORDER BY n.nspname, c.relname, a.attnum
        LIMIT {MaxRows}
        """;

    private const string IndexesSql = $"""
        SELECT n.nspname, t.relname, pg_catalog.left(pg_catalog.concat(i.relname, ' (', pg_catalog.pg_get_indexdef(i.oid), ')'), 1000)
        FROM pg_catalog.pg_index x
        JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
        JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
        WHERE {Hidden}
        ORDER BY 1, 2, i.relname
        LIMIT {MaxRows}
        """;

    private const string FunctionsSql = $"""
        SELECT n.nspname, p.proname, pg_catalog.left(pg_catalog.pg_get_function_arguments(p.oid), 1000),
               pg_catalog.left(coalesce(pg_catalog.pg_get_function_result(p.oid), ''), 1000)
        FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE {Hidden}
        ORDER BY 1, 2
        LIMIT {MaxRows}
        """;

    public async Task<DatabaseSchema> ReadAsync(InstanceConnection connection, CancellationToken cancellationToken)
    {
        await using var owned = await OneOffConnection.OpenAsync(NpgsqlSqlSessionFactory.PlatformConnectionString(connection, "taidon-schema"), cancellationToken);
        var npgsql = owned.Connection;

        var indexes = new Dictionary<(string, string), List<string>>();
        await foreach (var (schema, table, index) in QueryAsync(npgsql, IndexesSql, r => (r.GetString(0), r.GetString(1), r.GetString(2)), cancellationToken))
        {
            (indexes.TryGetValue((schema, table), out var list) ? list : indexes[(schema, table)] = []).Add(index);
        }

        var relations = new List<SchemaRelation>();
        var columns = new List<SchemaColumn>();
        (string Schema, string Name, string Kind)? current = null;
        await foreach (var row in QueryAsync(npgsql, RelationsSql, r => (Schema: r.GetString(0), Name: r.GetString(1), Kind: r.GetString(2),
                           Column: r.IsDBNull(3) ? null : r.GetString(3), Type: r.IsDBNull(4) ? "" : r.GetString(4), NotNull: !r.IsDBNull(5) && r.GetBoolean(5)), cancellationToken))
        {
            if (current is { } c && (c.Schema, c.Name) != (row.Schema, row.Name))
            {
                relations.Add(new SchemaRelation(c.Schema, c.Name, c.Kind, columns, indexes.GetValueOrDefault((c.Schema, c.Name)) ?? []));
                columns = [];
            }

            current = (row.Schema, row.Name, row.Kind);
            if (row.Column is not null)
            {
                columns.Add(new SchemaColumn(row.Column, row.Type, row.NotNull));
            }
        }

        if (current is { } last)
        {
            relations.Add(new SchemaRelation(last.Schema, last.Name, last.Kind, columns, indexes.GetValueOrDefault((last.Schema, last.Name)) ?? []));
        }

        var functions = new List<SchemaFunction>();
        await foreach (var function in QueryAsync(npgsql, FunctionsSql, r => new SchemaFunction(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)), cancellationToken))
        {
            functions.Add(function);
        }

        return new DatabaseSchema(relations, functions);
    }

    private static async IAsyncEnumerable<T> QueryAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return read(reader);
        }
    }
}
