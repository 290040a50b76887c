using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Tests.Support;

/// <summary>
/// A small ext4 filesystem of a test's own, loop-mounted from an image (root only; see
/// <see cref="RootFactAttribute"/>), with no blocks reserved for root: what fills it is what the test
/// writes. Disposing unmounts it and deletes the image.
/// </summary>
public sealed class LoopFilesystem : IAsyncDisposable
{
    private readonly string _root;

    private LoopFilesystem(string root) => _root = root;

    /// <summary>Where the filesystem is mounted.</summary>
    public string Mount => Path.Combine(_root, "mnt");

    public static async Task<LoopFilesystem> MountAsync(string purpose, int megabytes)
    {
        var filesystem = new LoopFilesystem(Path.Combine("/var/tmp", $"taidon-{purpose}-{Guid.NewGuid():N}"[..(15 + purpose.Length)]));
        Directory.CreateDirectory(filesystem.Mount);
        var image = Path.Combine(filesystem._root, "disk.img");
        await RunAsync("truncate", "-s", $"{megabytes}M", image);
        await RunAsync("mkfs.ext4", "-q", "-F", "-m", "0", image);
        await RunAsync("mount", "-o", "loop", image, filesystem.Mount);
        File.SetUnixFileMode(filesystem.Mount, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        return filesystem;
    }

    public static async Task RunAsync(string program, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(program, arguments, null, TimeSpan.FromMinutes(2), CancellationToken.None);
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {result.Output}");
    }

    public async ValueTask DisposeAsync()
    {
        await ProcessRunner.RunAsync("umount", ["-l", Mount], null, TimeSpan.FromMinutes(1), CancellationToken.None);
        Directory.Delete(_root, recursive: true);
    }
}
