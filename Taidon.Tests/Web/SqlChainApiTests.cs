using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

public sealed class SqlChainApiTests() : AppTests("sqlapi")
{
    [Fact]
    public async Task AnalyzeReturnsEachStatementWithItsNormalizedFormKeyAndSpan()
    {
        using var client = await ClientAsync();
        const string script = "-- schema\nCREATE TABLE t (id int);\n\nINSERT INTO t\n  VALUES (1); SELECT * FROM t";

        var response = await client.PostAsJsonAsync("/api/v1/sql/analyze", new { script, path = "init/01.sql" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var statements = body.GetProperty("statements").EnumerateArray().ToList();
        Assert.Equal(3, statements.Count);
        Assert.Equal("INSERT INTO t\n  VALUES (1);", statements[1].GetProperty("text").GetString());
        Assert.Equal("insert into t values(1)", statements[1].GetProperty("normalized").GetString());
        var span = statements[1].GetProperty("span");
        Assert.Equal("init/01.sql", span.GetProperty("file").GetString());
        Assert.Equal(4, span.GetProperty("startLine").GetInt32());
        Assert.Equal(5, span.GetProperty("endLine").GetInt32());

        var engine = EngineIdentity.PostgreSql(PostgresBinaries.Locate(null).MajorVersion);
        var keys = ChainKeys.Compute(engine, SqlSplitter.Split(script).Statements);
        Assert.Equal(keys[0].ToString(), body.GetProperty("root").GetString());
        Assert.Equal(keys[2].ToString(), statements[1].GetProperty("key").GetString());
        Assert.Equal(keys[2].Short, statements[1].GetProperty("shortKey").GetString());
        Assert.Equal("other", statements[1].GetProperty("kind").GetString());
    }

    [Fact]
    public async Task AScriptThatCannotBeSplitIsA422WithTheProblemsPositions()
    {
        using var client = await ClientAsync();

        var response = await client.PostAsJsonAsync("/api/v1/sql/analyze", new { script = "SELECT 1;\nSELECT 'open" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var first = problem.GetProperty("problems")[0];
        Assert.Equal(2, first.GetProperty("line").GetInt32());
        Assert.Equal(8, first.GetProperty("column").GetInt32());
        Assert.Contains("never closed", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, problem.GetProperty("statements").GetArrayLength());
    }

    [Fact]
    public async Task FilesAreAnalyzedInChainOrder()
    {
        using var client = await ClientAsync();
        var files = new[]
        {
            new { path = "test/01.sql", content = "SELECT count(*) FROM t;" },
            new { path = "seed/01.sql", content = "INSERT INTO t VALUES (1);" },
            new { path = "init/01.sql", content = "CREATE TABLE t (id int);" },
        };

        var body = await (await client.PostAsJsonAsync("/api/v1/sql/analyze", new { files })).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(
            ["init/01.sql", "seed/01.sql", "test/01.sql"],
            body.GetProperty("statements").EnumerateArray().Select(s => s.GetProperty("span").GetProperty("file").GetString()));
    }

    [Fact]
    public async Task BothOrNeitherIsA400ThatSaysWhatToSend()
    {
        using var client = await ClientAsync();

        var response = await client.PostAsJsonAsync("/api/v1/sql/analyze", new { });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"script\"", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnalyzeNeedsAToken()
    {
        using var client = App.CreateClient();

        var response = await client.PostAsJsonAsync("/api/v1/sql/analyze", new { script = "SELECT 1" });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<HttpClient> ClientAsync()
    {
        var client = App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await AnonymousTokenAsync(client));
        return client;
    }
}
