using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>
/// What a hostile student sends, through the HTTP API of the real app: every case gets a clear answer (never
/// a 500), the answer stays small whatever the statement produced, and another student's runs meanwhile
/// answer as they do alone. The memory each case costs the app is measured by the benchmarks' --hostile mode.
/// </summary>
public sealed class HostileCorpusTests : IAsyncLifetime
{
    private TaidonAppFactory _app = null!;

    public static TheoryData<string, string, string> Corpus => new()
    {
        // name, script, what the last statement's answer must show: "cut:<kind>" or "error:<sqlstate prefix>" or "rows:<first value>"
        { "many notices", "DO $$BEGIN FOR i IN 1..5000 LOOP RAISE NOTICE '%', repeat('n', 1000); END LOOP; END$$;", "cut:noticesPerStatement" },
        { "a notice flood", "DO $$BEGIN FOR i IN 1..2000000 LOOP RAISE NOTICE '%', repeat('n', 1000); END LOOP; END$$;", "error:54000" },
        { "a 100 MB value", "SELECT repeat('x', 100000000) AS big;", "cut:values" },
        { "a notice of 20 MB", "DO $$BEGIN RAISE NOTICE '%', repeat('n', 20000000); END$$;", "notice" },
        { "an error of 20 MB", "DO $$BEGIN RAISE EXCEPTION '%', repeat('e', 20000000); END$$;", "error:P0001" },
        { "a million wide rows", "SELECT g, repeat('y', 1000) FROM generate_series(1, 1000000) g;", "cut:rows" },
        { "a value larger than the instance's memory", "SELECT length(string_agg(repeat('x', 1000000), '')) FROM generate_series(1, 2000);", "error:" },
        { "a statement past the timeout", "SELECT pg_sleep(60);", "error:57014" },
        { "a commit and then a failure", "CREATE TABLE t (x int);\nDO $$BEGIN INSERT INTO t VALUES (1); COMMIT; RAISE EXCEPTION 'boom'; END$$;", "error:P0001" },
        { "a typo", "SELEC 1;", "error:42601" },
        { "a shadowed catalog", "CREATE VIEW pg_class AS SELECT 1 AS oid;\nSET search_path = public, pg_catalog;\nSELECT count(*) > 0 FROM pg_catalog.pg_class;", "rows:t" },
        { "session state set with set_config", "SELECT set_config('search_path', 'nowhere', false);\nCREATE TABLE here (x int);", "error:3F000" },
    };

    public async Task InitializeAsync() =>
        _app = await TaidonAppFactory.CreateWithInstancesAsync("hostile", new Dictionary<string, string?>
        {
            ["Taidon:Instances:StatementTimeoutSeconds"] = "5",
            ["Taidon:RateLimits:AnonymousApiPerMinute"] = "10000",
        });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task EveryCaseGetsAClearSmallAnswerAndTheNextRunStartsFromACleanState(string name, string script, string expected)
    {
        using var student = await _app.GuestApiClientAsync();

        var response = await student.PostAsJsonAsync("/api/v1/runs", new { script });

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(body.Length < 16 * 1024 * 1024, $"{name}: the answer took {body.Length} bytes");
        var run = JsonDocument.Parse(body).RootElement;
        var last = run.GetProperty("statements").EnumerateArray().Last(s => s.GetProperty("status").GetString() is "executed" or "error");
        var (kind, value) = (expected.Split(':')[0], expected.Contains(':', StringComparison.Ordinal) ? expected.Split(':', 2)[1] : "");
        switch (kind)
        {
            case "cut":
                Assert.Contains(last.GetProperty("cuts").EnumerateArray(), c => c.GetProperty("kind").GetString() == value && c.GetProperty("message").GetString()!.Contains("your plan", StringComparison.Ordinal));
                break;
            case "error":
                var error = last.GetProperty("error");
                Assert.StartsWith(value, error.GetProperty("sqlState").GetString(), StringComparison.Ordinal);
                Assert.True(error.GetProperty("message").GetString()!.Length <= 300 * 1024, $"{name}: the error message is cut");
                break;
            case "notice":
                var notice = Assert.Single(last.GetProperty("notices").EnumerateArray()).GetString()!;
                Assert.InRange(notice.Length, 1000, 300 * 1024);
                break;
            default:
                Assert.Equal(value, last.GetProperty("results")[0].GetProperty("rows")[0][0].GetString());
                break;
        }

        // Whatever the case left, the student's next run answers as a clean replay does, and so does another
        // student's run of the same chain (which may restore the layers and facts the first one's runs left).
        await AssertCleanAsync(name, student);
        using var another = await _app.GuestApiClientAsync();
        await AssertCleanAsync(name, another);
    }

    private static async Task AssertCleanAsync(string name, HttpClient student)
    {
        var after = await student.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE t (x int);\nSELECT count(*) FROM t;" });
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        var next = await after.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(next.GetProperty("succeeded").GetBoolean(), $"{name}: {next}");
        Assert.Equal("0", next.GetProperty("statements")[1].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());
    }

    [Fact]
    public async Task AnotherStudentsRunsDuringAFloodAnswerAsTheyDoAlone()
    {
        using var hostile = await _app.GuestApiClientAsync();
        using var other = await _app.GuestApiClientAsync();
        const string Script = "CREATE TABLE pets (id int, name text);\nINSERT INTO pets VALUES (1, 'Rex'), (2, 'Tom');\nSELECT string_agg(name, ',' ORDER BY id) FROM pets;";
        var alone = await AnswerAsync(other, Script);

        var flood = hostile.PostAsJsonAsync("/api/v1/runs", new { script = "DO $$BEGIN FOR i IN 1..150000 LOOP RAISE NOTICE '%', repeat('n', 1000); END LOOP; END$$;" });
        var during = new List<string>();
        while (!flood.IsCompleted && during.Count < 20)
        {
            during.Add(await AnswerAsync(other, Script));
        }

        Assert.Equal(HttpStatusCode.OK, (await flood).StatusCode);
        Assert.Equal("Rex,Tom", alone);
        Assert.All(during, answer => Assert.Equal(alone, answer));
    }

    private static async Task<string> AnswerAsync(HttpClient client, string script)
    {
        var response = await client.PostAsJsonAsync("/api/v1/runs", new { script });
        var run = await response.Content.ReadFromJsonAsync<JsonElement>();
        return run.GetProperty("statements")[2].GetProperty("results")[0].GetProperty("rows")[0][0].GetString()!;
    }
}
