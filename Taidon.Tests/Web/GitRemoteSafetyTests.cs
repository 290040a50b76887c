using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>
/// What a hostile student (or course link) cannot make the server do with Git: reach an address that
/// is not public (the servers here must see no connection), be redirected there, send a token over plain
/// http, check out more than a project may hold, or wait forever.
/// </summary>
public sealed class GitRemoteSafetyTests : IAsyncLifetime
{
    private const int TimeoutSeconds = 3;

    private static readonly Dictionary<string, string> Course = new()
    {
        ["init/01_schema.sql"] = "CREATE TABLE pupils (id int PRIMARY KEY, name text);\n",
        ["test/01_count.sql"] = "SELECT count(*) FROM pupils;\n",
    };

    private TaidonAppFactory _app = null!;
    private GitHttpServer _git = null!;

    /// <summary>Not allowed: anything that reaches it is a failure.</summary>
    private readonly RecordingHttpServer _target = RecordingHttpServer.AskingForALogin();
    private RecordingHttpServer _redirector = null!;
    private readonly RecordingHttpServer _asker = RecordingHttpServer.AskingForALogin();
    private readonly RecordingHttpServer _silent = RecordingHttpServer.Silent();

    public async Task InitializeAsync()
    {
        _redirector = RecordingHttpServer.RedirectingTo($"http://127.0.0.1:{_target.Port}");
        _git = await GitHttpServer.StartAsync();
        _app = await TaidonAppFactory.CreateWithInstancesAsync("git-safety", new Dictionary<string, string?>
        {
            ["Taidon:RateLimits:AnonymousApiPerMinute"] = "10000",
            ["Taidon:Git:AllowedHosts:0"] = _git.Host,
            ["Taidon:Git:AllowedHosts:1"] = _redirector.Host,
            ["Taidon:Git:AllowedHosts:2"] = _asker.Host,
            ["Taidon:Git:AllowedHosts:3"] = _silent.Host,
            ["Taidon:Git:TimeoutSeconds"] = TimeoutSeconds.ToString(CultureInfo.InvariantCulture),
            ["Taidon:Projects:MaxScripts"] = "3",
            ["Taidon:Projects:MaxScriptBytes"] = "16384",
            ["Taidon:Projects:MaxProjectBytes"] = "65536",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _git.DisposeAsync();
        await _target.DisposeAsync();
        await _redirector.DisposeAsync();
        await _asker.DisposeAsync();
        await _silent.DisposeAsync();
    }

    [Theory]
    [InlineData("http://127.0.0.1:{port}/course.git", "127.0.0.1 is a loopback address")]
    [InlineData("http://127.1:{port}/course.git", "127.0.0.1 is a loopback address")]
    [InlineData("http://0x7f000001:{port}/course.git", "127.0.0.1 is a loopback address")]
    [InlineData("http://2130706433:{port}/course.git", "127.0.0.1 is a loopback address")]
    [InlineData("http://0177.0.0.1:{port}/course.git", "127.0.0.1 is a loopback address")]
    [InlineData("http://[::ffff:127.0.0.1]:{port}/course.git", "loopback address")]
    [InlineData("http://localhost:{port}/course.git", "localhost is this server")]
    [InlineData("http://LocalHost.:{port}/course.git", "this server")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "link-local")]
    [InlineData("http://git.taidon.svc.cluster.local:{port}/course.git", "cluster")]
    [InlineData("https://gitea/course.git", "no domain")]
    public async Task ARefusedAddressIsRefusedThroughTheApiAndTheServerThereSeesNoConnection(string url, string reason)
    {
        using var student = await _app.GuestApiClientAsync();

        var refused = await student.PostAsJsonAsync("/api/v1/projects/import", new { url = url.Replace("{port}", _target.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal) });

        var problem = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("This address is not allowed", problem, StringComparison.Ordinal);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.Contains("an admin can allow the host in Taidon:Git:AllowedHosts", problem, StringComparison.Ordinal);
        Assert.Equal(0, _target.Connections);
        Assert.Empty((await student.GetFromJsonAsync<JsonElement>("/api/v1/projects")).EnumerateArray());
    }

    [Fact]
    public async Task ARedirectFromAnAllowedHostToALoopbackAddressIsRefusedAndTheTargetSeesNothing()
    {
        using var student = await _app.GuestApiClientAsync();

        var refused = await student.PostAsJsonAsync("/api/v1/projects/import", new { url = _redirector.Url("course.git") });

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("This address is not allowed: 127.0.0.1 is a loopback address", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(_redirector.Requests, r => r.StartsWith("GET /course.git/info/refs?service=git-upload-pack ", StringComparison.Ordinal));
        Assert.Equal(0, _target.Connections);
    }

    [Fact]
    public async Task ATokenSavedForHttpsIsNeverSentToTheSameHostOverPlainHttp()
    {
        using var student = await _app.GuestApiClientAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await student.PutAsJsonAsync($"/api/v1/git/credentials/{_asker.Host}", new { username = "me", token = "https-only-token" })).StatusCode);

        var refused = await student.PostAsJsonAsync("/api/v1/projects/import", new { url = _asker.Url("private.git") });

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("The repository was not found or needs a token", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotEmpty(_asker.Requests);
        Assert.DoesNotContain(_asker.Requests, r => r.Contains("Authorization:", StringComparison.OrdinalIgnoreCase));

        // Saved for http explicitly, it is sent (so the check above could have seen it).
        Assert.Equal(HttpStatusCode.NoContent, (await student.PutAsJsonAsync($"/api/v1/git/credentials/{Uri.EscapeDataString("http://" + _asker.Host)}", new { username = "me", token = "plain-http-token" })).StatusCode);
        var again = await student.PostAsJsonAsync("/api/v1/projects/import", new { url = _asker.Url("private.git") });
        Assert.Contains("refused the token", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(_asker.Requests, r => r.Contains("Authorization: Basic", StringComparison.Ordinal));
        Assert.DoesNotContain(_asker.Requests, r => r.Contains(Convert.ToBase64String("me:https-only-token"u8), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("scripts", "more than 3 scripts")]
    [InlineData("script-bytes", "a script may have at most 16 KiB")]
    [InlineData("project-bytes", "take more than 64 KiB")]
    public async Task ARepositoryLargerThanAProjectMayBeIsRefusedAndLeavesNoProject(string kind, string reason)
    {
        var files = new Dictionary<string, string>(Course);
        switch (kind)
        {
            case "scripts":
                files["seed/01_a.sql"] = "SELECT 1;\n";
                files["seed/02_b.sql"] = "SELECT 2;\n";
                break;
            case "script-bytes":
                files["seed/01_big.sql"] = "-- " + new string('x', 20_000) + "\n";
                break;
            default:
                files["data/notes.txt"] = new string('y', 40_000);
                files["data/more.txt"] = new string('z', 40_000);
                break;
        }

        await _git.CreateRepositoryAsync("big-" + kind, files);
        using var student = await _app.GuestApiClientAsync();

        var refused = await student.PostAsJsonAsync("/api/v1/projects/import", new { url = _git.PublicUrl("big-" + kind) });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Contains(reason, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty((await student.GetFromJsonAsync<JsonElement>("/api/v1/projects")).EnumerateArray());
        var projects = Path.Combine(_app.DataDirectory!, "projects");
        if (Directory.Exists(projects))
        {
            Assert.DoesNotContain(Directory.EnumerateDirectories(projects, "*", SearchOption.AllDirectories), d => Directory.EnumerateFiles(d).Any());
        }
    }

    [Fact]
    public async Task APullBringingMoreThanAProjectMayHoldIsRefusedAndChangesNothing()
    {
        await _git.CreateRepositoryAsync("grows", Course);
        using var student = await _app.GuestApiClientAsync();
        var created = await student.PostAsJsonAsync("/api/v1/projects/import", new { url = _git.PublicUrl("grows") });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var project = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await _git.CommitAsync("grows", new Dictionary<string, string> { ["seed/01_a.sql"] = "SELECT 1;\n", ["seed/02_b.sql"] = "SELECT 2;\n" }, "Two more");

        var refused = await student.PostAsJsonAsync($"/api/v1/projects/{project}/git/pull", new { });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        var status = await student.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{project}/git");
        Assert.Equal(0, status.GetProperty("behind").GetInt32());
        var scripts = (await student.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{project}")).GetProperty("scripts").EnumerateArray().Select(s => s.GetProperty("path").GetString());
        Assert.Equal(["init/01_schema.sql", "test/01_count.sql"], scripts);
    }

    [Fact]
    public async Task AHostThatNeverAnswersIsLeftAfterTheTimeoutAndLeavesNoProject()
    {
        using var student = await _app.GuestApiClientAsync();
        var started = TimeProvider.System.GetTimestamp();

        var refused = await student.PostAsJsonAsync("/api/v1/projects/import", new { url = _silent.Url("slow.git") });

        Assert.Equal(HttpStatusCode.GatewayTimeout, refused.StatusCode);
        Assert.Contains($"took longer than {TimeoutSeconds} s", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.InRange(TimeProvider.System.GetElapsedTime(started), TimeSpan.FromSeconds(TimeoutSeconds - 0.5), TimeSpan.FromSeconds(TimeoutSeconds + 20));
        Assert.Empty((await student.GetFromJsonAsync<JsonElement>("/api/v1/projects")).EnumerateArray());
    }

    [Fact]
    public async Task ACourseLinkIsNotFetchedWhileACookielessFirstRequestIsPrerendered()
    {
        using var visitor = _app.CreateClient();

        var page = await visitor.GetAsync("/?git=" + Uri.EscapeDataString(_asker.Url("course.git")));

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        await Task.Delay(500);
        Assert.Equal(0, _asker.Connections);
    }
}
