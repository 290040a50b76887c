using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Taidon.Core.Accounts;
using Taidon.Infrastructure;
using Taidon.Infrastructure.Identity;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>
/// The backup of one server as README.md describes it (a pg_dump of the embedded control plane and a copy
/// of the projects folder) brought back on a new server: accounts sign in, their projects' scripts are
/// there, and runs work again with instances and layers made anew.
/// </summary>
public sealed class BackupRestoreTests : IAsyncLifetime
{
    private const string Email = "student@school.test";
    private const string Password = "Student-Passw0rd!";
    private const string MyScript = "SELECT count(*) FROM order_items;";

    private readonly string _old = ShortDirectory();
    private readonly string _new = ShortDirectory();
    private readonly string _backup = Directory.CreateTempSubdirectory("taidon-backup-").FullName;
    private readonly PostgresBinaries _postgres = PostgresBinaries.Locate(null);

    public Task InitializeAsync() => Task.CompletedTask;

    [Fact]
    public async Task TheControlPlaneDumpAndTheProjectsFolderBringBackAccountsProjectsAndRunsOnANewServer()
    {
        var dump = Path.Combine(_backup, "taidon.dump");
        string guestToken, guestProject, studentProject;
        await using (var old = OnOwnServer(_old))
        {
            // A guest on the sample course with a script of their own, run once (an instance and layers on disk).
            using var guest = await old.GuestApiClientAsync();
            guestToken = guest.DefaultRequestHeaders.Authorization!.Parameter!;
            guestProject = await CreateProjectAsync(guest, "Books", "sample");
            (await guest.PutAsJsonAsync($"/api/v1/projects/{guestProject}/scripts/test/05_mine.sql", new { content = MyScript })).EnsureSuccessStatusCode();
            Assert.Equal("106667", Answer(await RunAsync(guest, guestProject)));

            // A student registered through the form, with a project of their own.
            using var browser = old.CreateClient(new() { AllowAutoRedirect = false });
            using var registered = await HtmlForms.SubmitAsync(browser, "/Account/Register", new Dictionary<string, string>
            {
                ["Input.Email"] = Email,
                ["Input.Password"] = Password,
                ["Input.ConfirmPassword"] = Password,
            });
            Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
            using var student = await TokenClientAsync(old);
            studentProject = await CreateProjectAsync(student, "Notes", "empty");
            (await student.PutAsJsonAsync($"/api/v1/projects/{studentProject}/scripts/init/01_notes.sql", new { content = "CREATE TABLE notes (id int);" })).EnsureSuccessStatusCode();

            // The backup, while the app runs: the control-plane database, reached as README.md says, and the projects.
            await PostgresAsync("pg_dump", _old, "--format=custom", $"--file={dump}", EmbeddedControlPlane.DatabaseName);
            await CopyAsync(Path.Combine(_old, "projects"), Path.Combine(_backup, "projects"));
        }

        await TaidonAppFactory.DeleteAsync(_old); // the old server is gone, its instances and snapshot layers with it

        // The new server: its control-plane cluster alone (created empty, as Taidon's first start makes it), the
        // dump restored into its database, the projects put back; then Taidon starts on it.
        var cluster = await EmbeddedControlPlane.StartAsync(_new, new PostgresOptions(), NullLogger.Instance, CancellationToken.None);
        try
        {
            await PostgresAsync("pg_restore", _new, "--no-owner", "--exit-on-error", $"--dbname={EmbeddedControlPlane.DatabaseName}", dump);
        }
        finally
        {
            await cluster.StopAsync(CancellationToken.None);
        }

        await CopyAsync(Path.Combine(_backup, "projects"), Path.Combine(_new, "projects"));

        await using var restored = OnOwnServer(_new);

        // The student signs in with their password and finds their project.
        using var again = restored.CreateClient(new() { AllowAutoRedirect = false });
        using var signedIn = await HtmlForms.SubmitAsync(again, "/Account/Login", new Dictionary<string, string> { ["Input.Email"] = Email, ["Input.Password"] = Password });
        Assert.True(signedIn.StatusCode == HttpStatusCode.Redirect, $"Signing in answered {(int)signedIn.StatusCode}");
        Assert.Contains(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("taidon.session=", StringComparison.Ordinal));
        using var student2 = await TokenClientAsync(restored);
        Assert.Equal("CREATE TABLE notes (id int);", (await ScriptsAsync(student2, studentProject))["init/01_notes.sql"]);

        // The guest's token still holds; their script is there and runs again, its instance made anew.
        using var guest2 = restored.CreateClient();
        guest2.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", guestToken);
        Assert.Equal(MyScript, (await ScriptsAsync(guest2, guestProject))["test/05_mine.sql"]);
        Assert.Equal("106667", Answer(await RunAsync(guest2, guestProject)));
    }

    public async Task DisposeAsync()
    {
        await TaidonAppFactory.DeleteAsync(_old);
        await TaidonAppFactory.DeleteAsync(_new);
        await TaidonAppFactory.DeleteAsync(_backup);
    }

    /// <summary>The app with the embedded control plane in its own data directory, as on one server.</summary>
    private static TaidonAppFactory OnOwnServer(string dataDirectory) =>
        new("", new Dictionary<string, string?> { ["Taidon:DataDirectory"] = dataDirectory });

    /// <summary>
    /// Runs pg_dump or pg_restore against the embedded control plane of a data directory as README.md says:
    /// the port from the postmaster.pid of control-plane/pgdata (its fourth line), the password from
    /// secrets/control-plane-password, the user postgres.
    /// </summary>
    private async Task PostgresAsync(string program, string dataDirectory, params string[] arguments)
    {
        var port = File.ReadAllLines(Path.Combine(dataDirectory, "control-plane", "pgdata", "postmaster.pid"))[3].Trim();
        var password = (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "secrets", "control-plane-password"))).Trim();
        var result = await ProcessRunner.RunAsync(
            Path.Combine(_postgres.BinDirectory, program), ["--host=127.0.0.1", $"--port={port}", "--username=postgres", .. arguments],
            null, TimeSpan.FromMinutes(2), CancellationToken.None, new Dictionary<string, string> { ["PGPASSWORD"] = password });
        Assert.True(result.ExitCode == 0, $"{program}: {result.Output}");
    }

    private static async Task CopyAsync(string from, string to)
    {
        var result = await ProcessRunner.RunAsync("cp", ["-a", from, to], null, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.True(result.ExitCode == 0, result.Output);
    }

    private static async Task<string> CreateProjectAsync(HttpClient client, string name, string from)
    {
        using var created = await client.PostAsJsonAsync("/api/v1/projects", new { name, from });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> RunAsync(HttpClient guest, string project)
    {
        using var response = await guest.PostAsJsonAsync($"/api/v1/projects/{project}/runs", new { run = "test/05_mine.sql" });
        var run = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode && run.GetProperty("succeeded").GetBoolean(), run.ToString());
        return run;
    }

    private static string? Answer(JsonElement run) =>
        run.GetProperty("statements").EnumerateArray().Last().GetProperty("results")[0].GetProperty("rows")[0][0].GetString();

    private static async Task<Dictionary<string, string>> ScriptsAsync(HttpClient client, string project) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{project}")).GetProperty("scripts").EnumerateArray()
            .ToDictionary(s => s.GetProperty("path").GetString()!, s => s.GetProperty("content").GetString()!);

    /// <summary>An API client of the registered student, with a personal access token made for it.</summary>
    private static async Task<HttpClient> TokenClientAsync(TaidonAppFactory app)
    {
        using var scope = app.Services.CreateScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<TaidonUser>>().FindByEmailAsync(Email);
        var token = (await scope.ServiceProvider.GetRequiredService<IAccessTokenService>().CreateAsync(user!.Id, "backup test", null, CancellationToken.None)).Token;
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    // Short: instance sockets live under the data directory, and Unix socket paths stay under 108 bytes.
    private static string ShortDirectory() =>
        Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"tdn-{Guid.NewGuid():N}")[..12]);

}
