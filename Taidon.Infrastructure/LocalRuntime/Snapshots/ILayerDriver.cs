namespace Taidon.Infrastructure.LocalRuntime.Snapshots;

/// <summary>How a directory tree is copied into a layer and back: cheaply when the filesystem can share blocks.</summary>
public interface ILayerDriver
{
    string Name { get; }

    /// <summary>Makes <paramref name="target"/> (which must not exist) a copy of <paramref name="source"/>.</summary>
    Task CopyAsync(string source, string target, CancellationToken cancellationToken);

    /// <summary>Prepares an empty directory that <see cref="CopyAsync"/> can later copy cheaply (a btrfs subvolume).</summary>
    Task CreateEmptyAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <see cref="CopyAsync"/> of <paramref name="path"/> is an atomic snapshot, so that a running
    /// PostgreSQL's data directory can be copied as it is (it recovers from the copy as from a crash).
    /// </summary>
    Task<bool> SnapshotsLiveAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// Makes a published layer's data read-only where the filesystem also checksums its blocks, and says
    /// whether it did (then the manifest need not hash the files).
    /// </summary>
    Task<bool> SealAsync(string path, CancellationToken cancellationToken);

    /// <summary>Removes a tree made by this driver.</summary>
    Task DeleteAsync(string path, CancellationToken cancellationToken);
}

/// <summary>Copies with <c>cp -a --reflink=auto</c>: a block-sharing copy on btrfs and xfs, a full copy elsewhere.</summary>
public sealed class CopyLayerDriver : ILayerDriver
{
    public string Name => "copy";

    public async Task CopyAsync(string source, string target, CancellationToken cancellationToken)
    {
        var result = await ProcessRunner.RunAsync("cp", ["-a", "--reflink=auto", source, target], null, TimeSpan.FromMinutes(30), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new IOException($"Could not copy {source} to {target}: {result.Output}");
        }
    }

    public Task CreateEmptyAsync(string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(path);
        return Task.CompletedTask;
    }

    /// <summary>A file-by-file copy is never atomic.</summary>
    public Task<bool> SnapshotsLiveAsync(string path, CancellationToken cancellationToken) => Task.FromResult(false);

    /// <summary>Plain files can be changed in place: the manifest's hashes are what finds a damaged layer.</summary>
    public Task<bool> SealAsync(string path, CancellationToken cancellationToken) => Task.FromResult(false);

    public Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        return Task.CompletedTask;
    }
}

/// <summary>btrfs subvolumes: a layer is a read-only snapshot, a restore a writable snapshot of it (milliseconds at any size).</summary>
public sealed class BtrfsLayerDriver : ILayerDriver
{
    public string Name => "btrfs";

    public async Task CopyAsync(string source, string target, CancellationToken cancellationToken)
    {
        // Asked first, answered after: a snapshot is one process where a check and a snapshot were two.
        var snapshot = await RunAsync(["subvolume", "snapshot", source, target], cancellationToken);
        if (snapshot.ExitCode == 0)
        {
            return;
        }

        if (await IsSubvolumeAsync(source, cancellationToken))
        {
            throw Failed(["subvolume", "snapshot", source, target], snapshot.Output);
        }

        // A plain directory (made before the driver was chosen): fall back to a block-sharing copy.
        await new CopyLayerDriver().CopyAsync(source, target, cancellationToken);
    }

    public Task CreateEmptyAsync(string path, CancellationToken cancellationToken) =>
        BtrfsAsync(["subvolume", "create", path], cancellationToken);

    /// <summary>A subvolume's snapshot is atomic; a plain directory falls back to a copy, which is not.</summary>
    public Task<bool> SnapshotsLiveAsync(string path, CancellationToken cancellationToken) => IsSubvolumeAsync(path, cancellationToken);

    /// <summary>A layer that is a subvolume becomes read-only (even root's writes fail on it); btrfs checksums every block it reads.</summary>
    public async Task<bool> SealAsync(string path, CancellationToken cancellationToken)
    {
        string[] arguments = ["property", "set", "-ts", path, "ro", "true"];
        var seal = await RunAsync(arguments, cancellationToken);
        if (seal.ExitCode == 0)
        {
            return true;
        }

        return await IsSubvolumeAsync(path, cancellationToken) ? throw Failed(arguments, seal.Output) : false;
    }

    public async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(path))
        {
            return;
        }

        if (await IsSubvolumeAsync(path, cancellationToken))
        {
            await BtrfsAsync(["subvolume", "delete", path], cancellationToken);
        }
        else
        {
            Directory.Delete(path, recursive: true);
        }
    }

    /// <summary>True when <paramref name="directory"/> is on a btrfs filesystem and the btrfs tool is installed.</summary>
    public static bool Supports(string directory)
    {
        var type = ProcessRunner.Run("stat", ["-f", "-c", "%T", directory], null, TimeSpan.FromSeconds(10));
        return type.ExitCode == 0 && type.StandardOutput.Trim() == "btrfs"
            && ProcessRunner.Run("btrfs", ["--version"], null, TimeSpan.FromSeconds(10)).ExitCode == 0;
    }

    private static async Task<bool> IsSubvolumeAsync(string path, CancellationToken cancellationToken) =>
        (await ProcessRunner.RunAsync("btrfs", ["subvolume", "show", path], null, TimeSpan.FromSeconds(30), cancellationToken)).ExitCode == 0;

    private static Task<ProcessRunner.Result> RunAsync(string[] arguments, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync("btrfs", arguments, null, TimeSpan.FromMinutes(5), cancellationToken);

    private static IOException Failed(string[] arguments, string output) => new($"btrfs {string.Join(' ', arguments)} failed: {output}");

    private static async Task BtrfsAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var result = await RunAsync(arguments, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw Failed(arguments, result.Output);
        }
    }
}
