using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>Projects and Git against a real Git HTTP server (lighttpd with git-http-backend, basic authentication).</summary>
public sealed class GitTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Course = new()
    {
        ["init/01_schema.sql"] = "CREATE TABLE pupils (id int PRIMARY KEY, name text);\n",
        ["seed/01_pupils.sql"] = "INSERT INTO pupils VALUES (1, 'Ann'), (2, 'Bo');\n",
        ["test/01_count.sql"] = "SELECT count(*) FROM pupils;\n",
        ["README.md"] = "A course.\n",
    };

    private TaidonAppFactory _app = null!;
    private GitHttpServer _server = null!;

    /// <summary>An allowed loopback port nothing listens on.</summary>
    private readonly int _deadPort = Loopback.FreePort();

    public async Task InitializeAsync()
    {
        _server = await GitHttpServer.StartAsync();
        _app = await TaidonAppFactory.CreateWithInstancesAsync("git", new Dictionary<string, string?>
        {
            ["Taidon:RateLimits:AnonymousApiPerMinute"] = "10000",
            // The test server is on loopback, which only an admin's setting lets the app reach.
            ["Taidon:Git:AllowedHosts:0"] = _server.Host,
            ["Taidon:Git:AllowedHosts:1"] = $"127.0.0.1:{_deadPort}",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task AStudentImportsEditsCommitsAndPushesAndTheServerHasTheCommit()
    {
        await _server.CreateRepositoryAsync("course", Course);
        using var student = await StudentAsync();

        var project = await ImportAsync(student, "course");
        var opened = await student.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{project}");
        Assert.Equal("course", opened.GetProperty("project").GetProperty("name").GetString());
        Assert.Equal(["init/01_schema.sql", "seed/01_pupils.sql", "test/01_count.sql"], opened.GetProperty("scripts").EnumerateArray().Select(s => s.GetProperty("path").GetString()));

        await student.PutAsJsonAsync($"/api/v1/projects/{project}/scripts/test/01_count.sql", new { content = "SELECT count(*) AS pupils FROM pupils;\n" });
        var status = await student.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{project}/git");
        Assert.Equal("main", status.GetProperty("branch").GetString());
        var change = Assert.Single(status.GetProperty("changes").EnumerateArray());
        Assert.Equal("test/01_count.sql", change.GetProperty("path").GetString());
        Assert.Equal("modified", change.GetProperty("state").GetString());

        Assert.Equal(HttpStatusCode.OK, (await student.PostAsJsonAsync($"/api/v1/projects/{project}/git/commit", new { message = "Name the count" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await student.PostAsync($"/api/v1/projects/{project}/git/push", null)).StatusCode);

        Assert.Equal("Name the count", (await _server.LogAsync("course"))[0]);
        Assert.Equal("SELECT count(*) AS pupils FROM pupils;\n", await _server.ShowAsync("course", "test/01_count.sql"));
        var after = await student.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{project}/git");
        Assert.Equal(0, after.GetProperty("ahead").GetInt32());
        Assert.Empty(after.GetProperty("changes").EnumerateArray());
    }

    [Fact]
    public async Task APublicCourseIsImportedWithoutATokenButPushingNeedsOne()
    {
        await _server.CreateRepositoryAsync("public-course", Course);
        using var student = await _app.GuestApiClientAsync();

        var created = await student.PostAsJsonAsync("/api/v1/projects/import", new { url = _server.PublicUrl("public-course") });

        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var project = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await student.PutAsJsonAsync($"/api/v1/projects/{project}/scripts/test/01_count.sql", new { content = "SELECT 1;\n" });
        await student.PostAsJsonAsync($"/api/v1/projects/{project}/git/commit", new { message = "Mine" });
        var refused = await student.PostAsync($"/api/v1/projects/{project}/git/push", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("Course", (await _server.LogAsync("public-course"))[0]);
    }

    [Fact]
    public async Task AWrongTokenIsRefusedClearlyAndLeavesNoProject()
    {
        await _server.CreateRepositoryAsync("private", Course);
        using var student = await StudentAsync(token: "not-the-token");

        var refused = await student.PostAsJsonAsync("/api/v1/projects/import", new { url = _server.Url("private") });

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("refused the token", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty((await student.GetFromJsonAsync<JsonElement>("/api/v1/projects")).EnumerateArray());
    }

    [Theory]
    [InlineData("file:///etc", 400, "not a Git URL")]
    [InlineData("ssh://git@example.com/x.git", 400, "not a Git URL")]
    [InlineData("http://teacher:s3cret@127.0.0.1/x.git", 400, "Leave the user name and token out of the URL")]
    [InlineData("http://127.0.0.1:{dead}/nothing.git", 502, "Could not reach the repository host 127.0.0.1")]
    [InlineData("http://127.0.0.1:1/nothing.git", 403, "This address is not allowed: 127.0.0.1 is a loopback address")]
    public async Task ABadRemoteIsRefusedSayingWhy(string url, int status, string reason)
    {
        using var student = await StudentAsync();
        url = url.Replace("{dead}", _deadPort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        var refused = await student.PostAsJsonAsync("/api/v1/projects/import", new { url });

        Assert.Equal(status, (int)refused.StatusCode);
        Assert.Contains(reason, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingRepositoryIsNamedAsSuch()
    {
        using var student = await StudentAsync();

        var refused = await student.PostAsJsonAsync("/api/v1/projects/import", new { url = _server.Url("no-such-course") });

        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Contains("no repository", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task APullBringsTheTeachersUpdateAndKeepsTheStudentsWork()
    {
        await _server.CreateRepositoryAsync("updates", Course);
        using var student = await StudentAsync();
        var project = await ImportAsync(student, "updates");
        await student.PutAsJsonAsync($"/api/v1/projects/{project}/scripts/test/01_count.sql", new { content = "SELECT name FROM pupils ORDER BY name;\n" });
        await _server.CommitAsync("updates", new Dictionary<string, string> { ["test/02_new_exercise.sql"] = "SELECT 2;\n" }, "Exercise 2");

        var pulled = await (await student.PostAsJsonAsync($"/api/v1/projects/{project}/git/pull", new { })).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("merged", pulled.GetProperty("outcome").GetString());
        var scripts = await ScriptsAsync(student, project);
        Assert.Equal("SELECT name FROM pupils ORDER BY name;\n", scripts["test/01_count.sql"]);
        Assert.Equal("SELECT 2;\n", scripts["test/02_new_exercise.sql"]);
    }

    [Fact]
    public async Task AConflictingPullStopsNamingTheFileAndLosesNothingThenKeepsMineWhenAsked()
    {
        await _server.CreateRepositoryAsync("conflict", Course);
        using var student = await StudentAsync();
        var project = await ImportAsync(student, "conflict");
        const string mine = "CREATE TABLE pupils (id int PRIMARY KEY, name text NOT NULL);\n";
        await student.PutAsJsonAsync($"/api/v1/projects/{project}/scripts/init/01_schema.sql", new { content = mine });
        await _server.CommitAsync("conflict", new Dictionary<string, string>
        {
            ["init/01_schema.sql"] = "CREATE TABLE pupils (id bigint PRIMARY KEY, name text);\n",
            ["test/02_more.sql"] = "SELECT 3;\n",
        }, "Bigger ids");

        var stopped = await (await student.PostAsJsonAsync($"/api/v1/projects/{project}/git/pull", new { })).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("conflict", stopped.GetProperty("outcome").GetString());
        Assert.Equal(["init/01_schema.sql"], stopped.GetProperty("conflicts").EnumerateArray().Select(c => c.GetString()));
        var untouched = await ScriptsAsync(student, project);
        Assert.Equal(mine, untouched["init/01_schema.sql"]);
        Assert.False(untouched.ContainsKey("test/02_more.sql"));

        var kept = await (await student.PostAsJsonAsync($"/api/v1/projects/{project}/git/pull", new { onConflict = "keepMine" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("merged", kept.GetProperty("outcome").GetString());
        var merged = await ScriptsAsync(student, project);
        Assert.Equal(mine, merged["init/01_schema.sql"]);
        Assert.Equal("SELECT 3;\n", merged["test/02_more.sql"]);
    }

    [Fact]
    public async Task APushTheRemoteRejectsAsNonFastForwardIsReported()
    {
        await _server.CreateRepositoryAsync("race", Course);
        using var student = await StudentAsync();
        var project = await ImportAsync(student, "race");
        await student.PutAsJsonAsync($"/api/v1/projects/{project}/scripts/test/01_count.sql", new { content = "SELECT 1;\n" });
        await student.PostAsJsonAsync($"/api/v1/projects/{project}/git/commit", new { message = "Mine" });
        await _server.CommitAsync("race", new Dictionary<string, string> { ["README.md"] = "Changed by the teacher.\n" }, "Teacher's");

        var rejected = await student.PostAsync($"/api/v1/projects/{project}/git/push", null);

        Assert.Equal(HttpStatusCode.Conflict, rejected.StatusCode);
        Assert.Contains("pull first", await rejected.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("Teacher's", (await _server.LogAsync("race"))[0]);
    }

    [Fact]
    public async Task ALinkInARepositoryPointingOutsideIsAPlainFileNeverFollowed()
    {
        await _server.CreateRepositoryAsync("links", new Dictionary<string, string>(Course) { ["init/02_passwords.sql"] = "symlink:/etc/passwd" });
        using var student = await StudentAsync();

        var project = await ImportAsync(student, "links");

        var scripts = await ScriptsAsync(student, project);
        Assert.Equal("/etc/passwd", scripts["init/02_passwords.sql"]);
        Assert.DoesNotContain(scripts.Values, s => s.Contains("root:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheTokenNeverAppearsInLogsAuditRowsOrAnswers()
    {
        await _server.CreateRepositoryAsync("secret", Course);
        using var student = await StudentAsync();
        var project = await ImportAsync(student, "secret");
        await student.PutAsJsonAsync($"/api/v1/projects/{project}/scripts/test/01_count.sql", new { content = "SELECT 42;\n" });
        await student.PostAsJsonAsync($"/api/v1/projects/{project}/git/commit", new { message = "Answer" });
        await student.PostAsync($"/api/v1/projects/{project}/git/push", null);
        await student.PostAsJsonAsync($"/api/v1/projects/{project}/git/pull", new { });
        var hosts = await student.GetStringAsync("/api/v1/git/credentials");

        Assert.Contains(_server.TokenHost, hosts, StringComparison.Ordinal);
        Assert.DoesNotContain(GitHttpServer.Password, hosts, StringComparison.Ordinal);
        Assert.DoesNotContain(_app.Logs.Messages, m => m.Contains(GitHttpServer.Password, StringComparison.Ordinal));
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
        var details = await db.AuditEvents.Where(e => e.Action.StartsWith("git.")).Select(e => e.Detail ?? "").ToListAsync();
        Assert.Contains(details, d => d.Contains("/git/secret.git", StringComparison.Ordinal));
        Assert.DoesNotContain(details, d => d.Contains(GitHttpServer.Password, StringComparison.Ordinal));
        var stored = await db.GitCredentials.Select(c => c.ProtectedToken).ToListAsync();
        Assert.DoesNotContain(stored, s => s.Contains(GitHttpServer.Password, StringComparison.Ordinal));
    }

    private async Task<HttpClient> StudentAsync(string token = GitHttpServer.Password)
    {
        var client = await _app.GuestApiClientAsync();
        var saved = await client.PutAsJsonAsync($"/api/v1/git/credentials/{Uri.EscapeDataString(_server.TokenHost)}", new { username = GitHttpServer.User, token });
        Assert.Equal(HttpStatusCode.NoContent, saved.StatusCode);
        return client;
    }

    private async Task<Guid> ImportAsync(HttpClient student, string repository)
    {
        var created = await student.PostAsJsonAsync("/api/v1/projects/import", new { url = _server.Url(repository) });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<Dictionary<string, string>> ScriptsAsync(HttpClient student, Guid project) =>
        (await student.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{project}")).GetProperty("scripts").EnumerateArray()
            .ToDictionary(s => s.GetProperty("path").GetString()!, s => s.GetProperty("content").GetString()!);
}
