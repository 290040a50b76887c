using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Tests.Support;

namespace Taidon.Tests.Infrastructure.LocalRuntime;

/// <summary>On a filesystem that copies every file (ext4), the app as root puts instances and layers on a btrfs image of its own.</summary>
public sealed class CopyOnWriteStorageTests
{
    [RootFact]
    public async Task TheDefaultInstallMountsABtrfsImageRunsOnItAndUnmountsItWhenItStops()
    {
        await using var app = await TaidonAppFactory.CreateWithInstancesAsync("cow", new Dictionary<string, string?>
        {
            ["Taidon:Storage:CopyOnWrite"] = "auto",
            ["Taidon:Storage:ImageGigabytes"] = "2",
        });
        var mountPoint = Path.Combine(app.DataDirectory!, "cow");
        using var client = await app.GuestApiClientAsync();

        var first = await client.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE t AS SELECT generate_series(1, 1000) AS n;\nSELECT count(*) FROM t;" });
        var rerun = await client.PostAsJsonAsync("/api/v1/runs", new { script = "CREATE TABLE t AS SELECT generate_series(1, 1000) AS n;\nSELECT sum(n) FROM t;" });

        Assert.True((await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("succeeded").GetBoolean());
        var second = await rerun.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(second.GetProperty("succeeded").GetBoolean());
        Assert.Equal("500500", second.GetProperty("statements")[1].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());
        Assert.True(IsMounted(mountPoint), "the image is mounted under the data directory");
        Assert.Equal("btrfs", Filesystem(Path.Combine(mountPoint, "instances")));
        Assert.Equal("1", LoopDirectIo(mountPoint));
        Assert.Contains(app.Logs.Messages, m => m.Contains("btrfs image", StringComparison.Ordinal) && m.Contains("CopyOnWrite=off", StringComparison.Ordinal));

        await app.DisposeAsync();

        Assert.False(IsMounted(mountPoint), "the app unmounts what it mounted");
    }

    [RootFact]
    public void InstancesAlreadyOnTheDataDirectoryStayWhereTheyAreAndTheLogSaysHowToMove()
    {
        var data = Directory.CreateTempSubdirectory("tdn-cow-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(data, "instances", "0123"));
            var logs = new CapturedLogs();

            var storage = InstanceStorage.Prepare(data, new StorageOptions(), logs.CreateLogger("storage"));

            Assert.Equal(Path.Combine(data, "instances"), storage.Instances);
            Assert.Null(storage.MountedImage);
            Assert.False(File.Exists(Path.Combine(data, "storage.btrfs")));
            Assert.Contains(logs.Messages, m => m.Contains("instances exist already", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public void OffKeepsInstancesAndLayersOnTheDataDirectory()
    {
        var storage = InstanceStorage.Prepare("/nonexistent/taidon", new StorageOptions { CopyOnWrite = "off" }, NullLogger.Instance);

        Assert.Equal(("/nonexistent/taidon/instances", "/nonexistent/taidon/snapshots", (string?)null), (storage.Instances, storage.Snapshots, storage.MountedImage));
    }

    private static bool IsMounted(string path) =>
        File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')).Any(f => f.Length > 4 && f[4] == path);

    /// <summary>Whether the loop device mounted at <paramref name="path"/> writes to its file with direct I/O ("1"), from sysfs.</summary>
    private static string LoopDirectIo(string path)
    {
        var fields = File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')).First(f => f.Length > 4 && f[4] == path);
        var device = Path.GetFileName(fields[Array.IndexOf(fields, "-") + 2]);
        return File.ReadAllText($"/sys/block/{device}/loop/dio").Trim();
    }

    private static string Filesystem(string path) =>
        ProcessRunner.Run("stat", ["-f", "-c", "%T", path], null, TimeSpan.FromSeconds(10)).StandardOutput.Trim();
}
