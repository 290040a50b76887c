using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>Projects over the API: the sample course as a guest's project, scripts saved and checked, runs of stored scripts, privacy.</summary>
public sealed class ProjectsApiTests : IAsyncLifetime
{
    private TaidonAppFactory _app = null!;

    public async Task InitializeAsync() =>
        _app = await TaidonAppFactory.CreateWithInstancesAsync("projects", new Dictionary<string, string?>
        {
            ["Taidon:RateLimits:AnonymousApiPerMinute"] = "10000",
        });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task AGuestWorksOnTheSampleCourseAndRunsAStoredScript()
    {
        using var guest = await _app.GuestApiClientAsync();
        var created = await guest.PostAsJsonAsync("/api/v1/projects", new { name = "Books", from = "sample" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var second = await guest.PostAsJsonAsync("/api/v1/projects", new { name = "More" });
        Assert.Equal(HttpStatusCode.Forbidden, second.StatusCode);
        Assert.Equal("projects per account", (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("limit").GetString());

        var saved = await guest.PutAsJsonAsync($"/api/v1/projects/{id}/scripts/test/05_mine.sql", new { content = "SELECT count(*) FROM order_items;" });
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var project = await guest.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{id}");
        var paths = project.GetProperty("scripts").EnumerateArray().Select(s => s.GetProperty("path").GetString()).ToList();
        Assert.Equal("init/01_schema.sql", paths[0]);
        Assert.Equal("test/05_mine.sql", paths[^2]);
        Assert.Equal("bench/01_orders_of_a_customer.sql", paths[^1]);

        var run = await (await guest.PostAsJsonAsync($"/api/v1/projects/{id}/runs", new { run = "test/05_mine.sql" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(run.GetProperty("succeeded").GetBoolean());
        Assert.Equal("106667", run.GetProperty("statements").EnumerateArray().Last().GetProperty("results")[0].GetProperty("rows")[0][0].GetString());
    }

    [Fact]
    public async Task ANewAccountsRequestsAtTheSameMomentGetOneSampleCourse()
    {
        // A guest's sign-in and the page it opens both ask for the account's first project.
        using var guest = await _app.GuestApiClientAsync();
        var owner = await TaidonAppFactory.AccountIdAsync(guest);
        var projects = _app.Services.GetRequiredService<Taidon.Core.Projects.ProjectService>();

        var made = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => projects.DefaultAsync(owner, CancellationToken.None))));

        var only = Assert.Single(await projects.ListAsync(owner, CancellationToken.None));
        Assert.All(made, p => Assert.Equal(only.Id, p.Id));
        // The folders of the copies that lost are gone.
        Assert.Equal([only.Id.ToString("N")], Directory.EnumerateDirectories(Path.Combine(_app.DataDirectory!, "projects", owner)).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("notes/x.sql", "not in a chain folder")]
    [InlineData("seed/x.txt", "does not end in .sql")]
    [InlineData("seed/.hidden.sql", "hidden")]
    public async Task AScriptWithABadPathIsRefusedWithTheReason(string path, string reason)
    {
        using var owner = await _app.GuestApiClientAsync();
        var id = (await (await owner.PostAsJsonAsync("/api/v1/projects", new { name = "Mine" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var refused = await owner.PutAsJsonAsync($"/api/v1/projects/{id}/scripts/{path}", new { content = "SELECT 1;" });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains(reason, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScriptsAreRenamedAndDeletedAndAnotherAccountSeesNothing()
    {
        using var owner = await _app.GuestApiClientAsync();
        using var stranger = await _app.GuestApiClientAsync();
        var id = (await (await owner.PostAsJsonAsync("/api/v1/projects", new { name = "Mine" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        await owner.PutAsJsonAsync($"/api/v1/projects/{id}/scripts/init/01.sql", new { content = "CREATE TABLE t (id int);" });
        await owner.PutAsJsonAsync($"/api/v1/projects/{id}/scripts/test/01.sql", new { content = "SELECT 1;" });

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/projects/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PutAsJsonAsync($"/api/v1/projects/{id}/scripts/test/02.sql", new { content = "SELECT 2;" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsJsonAsync($"/api/v1/projects/{id}/runs", new { run = "test/01.sql" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"/api/v1/projects/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await owner.PostAsJsonAsync($"/api/v1/projects/{id}/rename-script", new { path = "test/01.sql", newPath = "bench/01.sql" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/v1/projects/{id}/scripts/init/01.sql")).StatusCode);
        var renamed = await owner.PatchAsJsonAsync($"/api/v1/projects/{id}", new { name = "Renamed" });
        Assert.Equal("Renamed", (await renamed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
        var project = await owner.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{id}");
        Assert.Equal(["bench/01.sql"], project.GetProperty("scripts").EnumerateArray().Select(s => s.GetProperty("path").GetString()));

        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/v1/projects/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/api/v1/projects/{id}")).StatusCode);
    }
}
