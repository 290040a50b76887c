using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Taidon.Core.Instances;

namespace Taidon.Tests.Kubernetes;

/// <summary>SQL against instances run by the fake cluster's node: a student's run through the app's API, or a session of the test's own.</summary>
internal static class PodSql
{
    /// <summary>Runs a student's script through the app and returns the run, which must have succeeded.</summary>
    public static async Task<JsonElement> RunAsync(HttpClient client, string script)
    {
        var response = await client.PostAsJsonAsync("/api/v1/runs", new { script });
        var run = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode && run.GetProperty("succeeded").GetBoolean(), run.ToString());
        return run;
    }

    public static async Task<NpgsqlConnection> OpenAsync(InstanceConnection connection)
    {
        var session = new NpgsqlConnection(Taidon.Infrastructure.Sql.NpgsqlSqlSessionFactory.ConnectionString(connection, "taidon-tests"));
        await session.OpenAsync();
        return session;
    }

    public static async Task<string?> ScalarAsync(NpgsqlConnection session, string sql)
    {
        await using var command = new NpgsqlCommand(sql, session);
        return (string?)await command.ExecuteScalarAsync();
    }
}
