using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Taidon.Infrastructure;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>
/// The whole installation on one small loop-mounted filesystem (the control plane's database, the
/// projects and the instances), filled up from outside the app: runs wait with a message, saves go on
/// until the disk is truly full and then keep the saved version, pages are served, and everything
/// works again without a restart once space is back.
/// </summary>
public sealed class FullDiskTests : IAsyncLifetime
{
    private LoopFilesystem? _disk;

    private string Mount => _disk!.Mount;

    private string Filler => Path.Combine(Mount, "filler");

    private EmbeddedControlPlane? _controlPlane;
    private TaidonAppFactory? _app;

    public async Task InitializeAsync()
    {
        if (OsUser.CurrentIsRoot)
        {
            _disk = await LoopFilesystem.MountAsync("fulldisk", 700);
        }
    }

    [RootFact]
    public async Task ADiskFilledFromOutsideRefusesRunsAndThenSavesWithMessagesAndEverythingComesBackWhenSpaceDoes()
    {
        _controlPlane = await EmbeddedControlPlane.StartAsync(Path.Combine(Mount, "control"), new PostgresOptions(), NullLogger.Instance, CancellationToken.None);
        _app = new TaidonAppFactory(await _controlPlane.CreateDatabaseAsync("fulldisk", CancellationToken.None), new Dictionary<string, string?>
        {
            ["Taidon:DataDirectory"] = Path.Combine(Mount, "data"),
            ["Taidon:Storage:ReserveMegabytes"] = "60",
        });
        using var student = await _app.GuestApiClientAsync();
        var project = (await (await student.PostAsJsonAsync("/api/v1/projects", new { name = "Course", from = "empty" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var script = $"/api/v1/projects/{project}/scripts/test/01_count.sql";
        Assert.Equal(HttpStatusCode.OK, (await student.PutAsJsonAsync(script, new { content = "SELECT 1 AS saved;" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await student.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE t (id int);\nSELECT count(*) FROM t;" })).StatusCode);

        // Below the reserve (60 MB, a tenth of this disk at most): a run waits, with what to do; a save goes on.
        await FillLeavingAsync(30);
        using var waits = await student.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE u (id int);\nSELECT 1;" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, waits.StatusCode);
        Assert.True(waits.Headers.RetryAfter is not null);
        var problem = (await waits.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains("disk is nearly full", problem, StringComparison.Ordinal);
        Assert.Contains("Your scripts are saved", problem, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await student.PutAsJsonAsync(script, new { content = "SELECT 2 AS saved;" })).StatusCode);

        // The disk truly full: a save is refused with a message and the saved version stays; pages are served.
        await FillLeavingAsync(0);
        using var refused = await student.PutAsJsonAsync(script, new { content = "SELECT 3 AS lost;" + new string(' ', 64 * 1024) });
        Assert.True(refused.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Conflict or HttpStatusCode.InsufficientStorage, $"a save on a full disk answered {refused.StatusCode}");
        Assert.Contains("disk is full", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("SELECT 2 AS saved;", await ScriptTextAsync(student, project!), StringComparison.Ordinal);
        using var anyone = _app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await anyone.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await student.GetAsync("/api/v1/me")).StatusCode);

        // Space back: a save and a run work again, without a restart.
        File.Delete(Filler);
        Assert.Equal(HttpStatusCode.OK, (await student.PutAsJsonAsync(script, new { content = "SELECT 4 AS saved;" })).StatusCode);
        using var again = await student.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE u (id int);\nSELECT 1;" });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    private static async Task<string> ScriptTextAsync(HttpClient student, string project) =>
        (await student.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{project}")).GetRawText();

    /// <summary>Grows the filler file until the filesystem has <paramref name="megabytes"/> free (as an unprivileged writer sees it).</summary>
    private async Task FillLeavingAsync(long megabytes)
    {
        var free = new DriveInfo(Mount).AvailableFreeSpace;
        var existing = File.Exists(Filler) ? new FileInfo(Filler).Length : 0;
        var size = Math.Max(existing, existing + free - megabytes * 1024 * 1024);
        await LoopFilesystem.RunAsync("fallocate", "-l", size.ToString(System.Globalization.CultureInfo.InvariantCulture), Filler);
        if (megabytes == 0)
        {
            // What fallocate leaves (the root reserve aside, which root's own writes may use): filled by writing.
            await LoopFilesystem.RunAsync("sh", "-c", $"cat /dev/zero >> {Filler} 2>/dev/null; true");
        }
    }


    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        if (_controlPlane is not null)
        {
            await _controlPlane.StopAsync(CancellationToken.None);
        }

        if (_disk is not null)
        {
            await _disk.DisposeAsync();
        }
    }
}
