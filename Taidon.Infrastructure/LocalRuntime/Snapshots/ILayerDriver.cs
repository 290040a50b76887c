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

/// <summary>
/// btrfs subvolumes: a layer is a read-only snapshot, a restore a writable snapshot of it (milliseconds at
/// any size). The subvolume calls are the kernel's ioctls, made in this process (on the thread pool: a
/// snapshot commits a btrfs transaction), not a <c>btrfs</c> process each.
/// </summary>
public sealed class BtrfsLayerDriver : ILayerDriver
{
    public string Name => "btrfs";

    public async Task CopyAsync(string source, string target, CancellationToken cancellationToken)
    {
        var error = await Task.Run(() => Subvolumes.Snapshot(source, target), cancellationToken);
        if (error == 0)
        {
            return;
        }

        if (Subvolumes.IsSubvolume(source))
        {
            throw LinuxCalls.Failure($"btrfs snapshot of {source} as {target}", error);
        }

        // A plain directory (made before the driver was chosen): fall back to a block-sharing copy.
        await new CopyLayerDriver().CopyAsync(source, target, cancellationToken);
    }

    public Task CreateEmptyAsync(string path, CancellationToken cancellationToken) =>
        Task.Run(() => Subvolumes.Create(path), cancellationToken);

    /// <summary>A subvolume's snapshot is atomic; a plain directory falls back to a copy, which is not.</summary>
    public Task<bool> SnapshotsLiveAsync(string path, CancellationToken cancellationToken) => Task.FromResult(Subvolumes.IsSubvolume(path));

    /// <summary>A layer that is a subvolume becomes read-only (even root's writes fail on it); btrfs checksums every block it reads.</summary>
    public Task<bool> SealAsync(string path, CancellationToken cancellationToken) => Task.FromResult(Subvolumes.MakeReadOnly(path));

    public async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(path))
        {
            return;
        }

        if (Subvolumes.IsSubvolume(path))
        {
            // Read-only or not; the cleaner frees its blocks later, in the kernel's own thread.
            await Task.Run(() => Subvolumes.Delete(path), cancellationToken);
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

    /// <summary>btrfs's subvolume ioctls, as <c>linux/btrfs.h</c> defines them (the same on every architecture).</summary>
    internal static unsafe class Subvolumes
    {
        // _IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2), _IOW(0x94, 14 and 15, struct btrfs_ioctl_vol_args): both structs are 4096 bytes.
        private const nuint SnapshotCreate = 0x50009417;
        private const nuint SubvolumeCreate = 0x5000940E;
        private const nuint SnapshotDestroy = 0x5000940F;

        // _IOR and _IOW(0x94, 25 and 26, __u64).
        private const nuint GetFlags = 0x80089419;
        private const nuint SetFlags = 0x4008941A;
        private const ulong ReadOnly = 2;

        private const int ArgumentsSize = 4096;

        // btrfs_ioctl_vol_args: fd, then the name; btrfs_ioctl_vol_args_v2: fd, transid, flags, 32 bytes of union, then the name.
        private const int NameOffset = 8;
        private const int NameOffsetV2 = 56;

        /// <summary>Whether <paramref name="path"/> is the top of a subvolume (only there does btrfs answer GETFLAGS).</summary>
        public static bool IsSubvolume(string path)
        {
            if (!Directory.Exists(path))
            {
                return false;
            }

            using var directory = LinuxCalls.OpenDirectory.Open(path);
            ulong flags;
            return directory.Control(GetFlags, &flags) == 0;
        }

        /// <summary>A writable snapshot of the subvolume <paramref name="source"/> at <paramref name="target"/>; the error number, or 0.</summary>
        public static int Snapshot(string source, string target)
        {
            using var from = LinuxCalls.OpenDirectory.Open(source);
            using var parent = LinuxCalls.OpenDirectory.Open(Parent(target));
            var arguments = stackalloc byte[ArgumentsSize];
            new Span<byte>(arguments, ArgumentsSize).Clear();
            *(long*)arguments = from.Descriptor;
            WriteName(arguments, NameOffsetV2, target);
            return parent.Control(SnapshotCreate, arguments);
        }

        public static void Create(string path) => CallOnParent(SubvolumeCreate, path, "btrfs subvolume create");

        public static void Delete(string path) => CallOnParent(SnapshotDestroy, path, "btrfs subvolume delete");

        /// <summary>Makes a subvolume read-only; false when <paramref name="path"/> is not one.</summary>
        public static bool MakeReadOnly(string path)
        {
            using var directory = LinuxCalls.OpenDirectory.Open(path);
            ulong flags;
            if (directory.Control(GetFlags, &flags) != 0)
            {
                return false;
            }

            flags |= ReadOnly;
            var error = directory.Control(SetFlags, &flags);
            return error == 0 ? true : throw LinuxCalls.Failure($"making {path} read-only", error);
        }

        private static void CallOnParent(nuint request, string path, string what)
        {
            using var parent = LinuxCalls.OpenDirectory.Open(Parent(path));
            var arguments = stackalloc byte[ArgumentsSize];
            new Span<byte>(arguments, ArgumentsSize).Clear();
            WriteName(arguments, NameOffset, path);
            var error = parent.Control(request, arguments);
            if (error != 0)
            {
                throw LinuxCalls.Failure($"{what} {path}", error);
            }
        }

        private static string Parent(string path) => Path.GetDirectoryName(Path.GetFullPath(path).TrimEnd('/'))!;

        private static void WriteName(byte* arguments, int offset, string path)
        {
            var name = Path.GetFileName(Path.GetFullPath(path).TrimEnd('/'));
            // The name ends with the zero the cleared buffer has after it.
            var written = System.Text.Encoding.UTF8.GetBytes(name, new Span<byte>(arguments + offset, ArgumentsSize - offset - 1));
            if (written == 0)
            {
                throw new ArgumentException($"'{path}' names no subvolume.", nameof(path));
            }
        }
    }
}
