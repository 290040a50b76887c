using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>Settings of <c>Taidon:Storage</c>: where the embedded runtime keeps instances and layers.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Taidon:Storage";

    /// <summary>
    /// <c>auto</c>: when the data directory's filesystem cannot share blocks between copies (ext4) and the
    /// app runs as root, instances and layers go to a btrfs image the app makes and loop-mounts under the
    /// data directory (as Docker's loopback storage does), so a restore is a snapshot instead of a copy
    /// of a thousand files. <c>off</c>: instances and layers stay on the data directory's filesystem.
    /// </summary>
    [RegularExpression("^(auto|off)$", ErrorMessage = "Taidon:Storage:CopyOnWrite must be 'auto' or 'off'.")]
    public string CopyOnWrite { get; set; } = "auto";

    /// <summary>The image's size (sparse: it takes only what is written); 0 picks 80 % of the free space at first start.</summary>
    [Range(0, 1_000_000, ErrorMessage = "Taidon:Storage:ImageGigabytes must be between 0 and 1000000.")]
    public int ImageGigabytes { get; set; }

    /// <summary>Room kept free on each disk the app writes to (at most a tenth of it): below it, runs and new instances wait (<c>DiskReserve</c>).</summary>
    [Range(0, 1_000_000, ErrorMessage = "Taidon:Storage:ReserveMegabytes must be between 0 and 1000000.")]
    public int ReserveMegabytes { get; set; } = 1024;
}

/// <summary>Where instances and layers live: the data directory itself, or a loop-mounted btrfs image in it.</summary>
/// <param name="Instances">The instances' root.</param>
/// <param name="Snapshots">The layers' root (on the same filesystem as the instances, so a restore can share blocks).</param>
/// <param name="MountedImage">The image the app mounted (unmounted when the app stops), or null.</param>
/// <param name="MountPoint">Where the image is mounted, or null.</param>
public sealed record InstanceStorage(string Instances, string Snapshots, string? MountedImage, string? MountPoint)
{
    private const string ImageName = "storage.btrfs";

    /// <summary>Chooses the storage at start (see <see cref="StorageOptions.CopyOnWrite"/>) and says in the log which and why.</summary>
    public static InstanceStorage Prepare(string dataDirectory, StorageOptions options, ILogger logger)
    {
        var plain = new InstanceStorage(Path.Combine(dataDirectory, "instances"), Path.Combine(dataDirectory, "snapshots"), null, null);
        var mountPoint = Path.Combine(dataDirectory, "cow");
        var image = Path.Combine(dataDirectory, ImageName);
        var onImage = new InstanceStorage(Path.Combine(mountPoint, "instances"), Path.Combine(mountPoint, "snapshots"), image, mountPoint);
        if (options.CopyOnWrite == "off")
        {
            return plain;
        }

        Directory.CreateDirectory(dataDirectory);
        if (IsMounted(mountPoint))
        {
            // Left mounted by an earlier run of the app (or mounted by the operator); one mounted before the app used direct I/O is switched to it.
            if (MountSource(mountPoint) is { } source && source.StartsWith("/dev/loop", StringComparison.Ordinal))
            {
                ProcessRunner.Run("losetup", ["--direct-io=on", source], null, TimeSpan.FromMinutes(1));
            }

            logger.LogInformation("Instances and layers are on the btrfs filesystem mounted at {MountPoint}", mountPoint);
            return onImage with { MountedImage = null };
        }

        var filesystem = FilesystemOf(dataDirectory);
        if (filesystem is "btrfs" or "xfs")
        {
            logger.LogInformation("Instances and layers share blocks on the data directory's {Filesystem} filesystem", filesystem);
            return plain;
        }

        if (Directory.Exists(plain.Instances) && Directory.EnumerateFileSystemEntries(plain.Instances).Any())
        {
            logger.LogWarning(
                "The data directory is on {Filesystem}, which copies every file of an instance on each restore; instances exist already in {Instances}, so they stay there. To move to copy-on-write storage, delete the instances and layers (students' states come back from their scripts) or put the data directory on btrfs or xfs",
                filesystem, plain.Instances);
            return plain;
        }

        if (!OsUser.CurrentIsRoot || !Tool("mkfs.btrfs") || !Tool("mount"))
        {
            logger.LogWarning(
                "The data directory is on {Filesystem}, which copies every file of an instance on each restore (about 66 MB and a thousand files a student). Faster: put it on btrfs or xfs, or run the app as root once so that it makes a btrfs image (needs btrfs-progs); Taidon:Storage:CopyOnWrite=off silences this",
                filesystem);
            return plain;
        }

        try
        {
            if (!File.Exists(image))
            {
                var free = new DriveInfo(dataDirectory).AvailableFreeSpace;
                var bytes = options.ImageGigabytes > 0 ? options.ImageGigabytes * (1L << 30) : Math.Max(1L << 30, free / 10 * 8);
                using (var file = new FileStream(image, FileMode.CreateNew, FileAccess.Write))
                {
                    file.SetLength(bytes);
                }

                Run("mkfs.btrfs", "-q", image);
            }

            Directory.CreateDirectory(mountPoint);
            Mount(image, mountPoint);
            File.SetUnixFileMode(mountPoint, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            logger.LogWarning(
                "The data directory is on {Filesystem}, which cannot share blocks between copies: instances and layers go to the btrfs image {Image} ({Gigabytes} GB, sparse), mounted at {MountPoint} (Taidon:Storage:CopyOnWrite=off turns this off)",
                filesystem, image, (new FileInfo(image).Length >> 30).ToString(CultureInfo.InvariantCulture), mountPoint);
            return onImage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            logger.LogWarning(e, "Could not make the btrfs image {Image}: instances and layers stay on {Filesystem} (full copies)", image, filesystem);
            return plain;
        }
    }

    /// <summary>
    /// Mounts the image through a loop device that writes to it with direct I/O. Through ext4's page cache
    /// (what <c>mount -o loop</c> does) every block is copied and allocated twice, and a btrfs snapshot,
    /// which first writes back what the statements left dirty, took 8-10 ms a MB here; direct, about 1.
    /// Where the loop device cannot be set up so, the image is mounted as before.
    /// </summary>
    private static void Mount(string image, string mountPoint)
    {
        var attached = ProcessRunner.Run("losetup", ["--find", "--show", "--direct-io=on", image], null, TimeSpan.FromMinutes(1));
        var device = attached.StandardOutput.Trim();
        if (attached.ExitCode != 0 || !device.StartsWith("/dev/", StringComparison.Ordinal))
        {
            Run("mount", "-o", "loop,noatime", image, mountPoint);
            return;
        }

        try
        {
            Run("mount", "-o", "noatime", device, mountPoint);
        }
        finally
        {
            // Detaching a mounted loop device only marks it to go with the unmount (as mount -o loop does);
            // detaching an unmounted one frees it at once.
            ProcessRunner.Run("losetup", ["-d", device], null, TimeSpan.FromMinutes(1));
        }
    }

    /// <summary>Unmounts the image the app mounted (lazily: a process still closing files does not block the stop).</summary>
    public void Release(ILogger logger)
    {
        if (MountedImage is null || MountPoint is null || !IsMounted(MountPoint))
        {
            return;
        }

        var result = ProcessRunner.Run("umount", ["-l", MountPoint], null, TimeSpan.FromSeconds(30));
        if (result.ExitCode != 0)
        {
            logger.LogWarning("Could not unmount {MountPoint}: {Output}", MountPoint, result.Output);
        }
    }

    private static bool IsMounted(string path) => MountFields(path) is not null;

    /// <summary>What is mounted at <paramref name="path"/> (a device, for a loop-mounted image its loop device), or null.</summary>
    private static string? MountSource(string path) =>
        MountFields(path) is { } fields && Array.IndexOf(fields, "-") is var separator and >= 0 && separator + 2 < fields.Length ? fields[separator + 2] : null;

    /// <summary>The line of /proc/self/mountinfo for <paramref name="path"/>, split: the mount point is the fifth field, the source the second after the "-".</summary>
    private static string[]? MountFields(string path)
    {
        var full = Path.GetFullPath(path).TrimEnd('/');
        return File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')).FirstOrDefault(f => f.Length > 4 && Unescape(f[4]) == full);
    }

    private static string Unescape(string path) => path.Replace("\\040", " ", StringComparison.Ordinal);

    private static string FilesystemOf(string directory)
    {
        var result = ProcessRunner.Run("stat", ["-f", "-c", "%T", directory], null, TimeSpan.FromSeconds(10));
        return result.ExitCode == 0 ? result.StandardOutput.Trim() : "unknown";
    }

    private static bool Tool(string name) =>
        Environment.GetEnvironmentVariable("PATH")?.Split(':').Concat(["/usr/sbin", "/sbin"]).Any(dir => File.Exists(Path.Combine(dir, name))) == true;

    private static void Run(string tool, params string[] arguments)
    {
        var result = ProcessRunner.Run(tool, arguments, null, TimeSpan.FromMinutes(2));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed: {result.Output}");
        }
    }
}
