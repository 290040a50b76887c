using Taidon.Core.Quotas;

namespace Taidon.Core.Runs;

/// <summary>One filesystem the installation writes to: what it holds, its free space (for an unprivileged writer) and its size.</summary>
public sealed record DiskSpace(string Holds, string Path, long FreeBytes, long TotalBytes);

/// <summary>
/// The filesystems the runtime writes to on this machine (the port): the data directory (projects, and
/// the embedded control plane) and the instances' and layers' one where it is another (a mounted image).
/// None where the app's disk holds no instances (the Kubernetes runtime).
/// </summary>
public interface IDiskSpace
{
    IReadOnlyList<DiskSpace> Measure();
}

/// <summary>
/// Keeps room on the disk for what must not fail. Below the reserve nothing that takes disk in bulk
/// starts: runs and new instances are refused as busy (503 with Retry-After, "your run waits") and the
/// warm pool stops filling, while saves (small, bounded by the project limits) and the control plane's
/// writes go on. Runs start again by themselves once space is back: nothing is remembered.
/// </summary>
public sealed class DiskReserve(IDiskSpace disk, long reserveBytes)
{
    public static readonly TimeSpan RetryAfter = TimeSpan.FromMinutes(1);

    /// <summary>The reserve on a filesystem of this size: the setting, but never more than a tenth of it.</summary>
    public long ReserveOf(long totalBytes) => Math.Min(reserveBytes, totalBytes / 10);

    /// <summary>Each filesystem with its reserve.</summary>
    public IReadOnlyList<(DiskSpace Space, long ReserveBytes)> Measure() => [.. disk.Measure().Select(s => (s, ReserveOf(s.TotalBytes)))];

    /// <summary>The filesystem below its reserve (the one with least room), or null when every one has room.</summary>
    public DiskSpace? Short() =>
        Measure().Where(d => d.Space.FreeBytes < d.ReserveBytes).OrderBy(d => d.Space.FreeBytes - d.ReserveBytes).Select(d => d.Space).FirstOrDefault();

    /// <summary>Throws <see cref="InstallationAtCapacityException"/> (limit "disk") with what to do when a filesystem is below its reserve.</summary>
    public void EnsureRoom()
    {
        if (Short() is { } space)
        {
            throw new InstallationAtCapacityException("disk",
                $"The server's disk is nearly full ({Megabytes(space.FreeBytes)} free on the disk that holds {space.Holds}; runs wait until " +
                $"{Megabytes(ReserveOf(space.TotalBytes))} are free). Your scripts are saved: run again in a few minutes, and tell your teacher or administrator.",
                RetryAfter);
        }
    }

    private static string Megabytes(long bytes) => $"{Math.Max(0, bytes) / (1024 * 1024)} MB";
}
