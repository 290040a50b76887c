using Taidon.Core.Runs;
using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Infrastructure.Runs;

/// <summary>
/// The filesystems of this machine the app writes to: the data directory's (projects, the embedded
/// control plane, and the embedded instances unless an image is mounted) and, once the embedded
/// instances' storage is prepared on a mounted image, that image's (its backing file lives on the data
/// directory's disk, which the first covers). With the Kubernetes runtime (no <paramref name="storage"/>)
/// the data directory holds the projects only.
/// </summary>
public sealed class MachineDiskSpace(string dataDirectory, Lazy<InstanceStorage>? storage) : IDiskSpace
{
    public IReadOnlyList<DiskSpace> Measure()
    {
        var spaces = new List<DiskSpace>();
        if (Of(storage is null ? "the projects" : "the projects and the instances", dataDirectory) is { } data)
        {
            spaces.Add(data);
        }

        if (storage is { IsValueCreated: true } && storage.Value.MountPoint is { } mounted && Of("the instances and the snapshot cache (a mounted image)", mounted) is { } image)
        {
            spaces.Add(image);
        }

        return spaces;
    }

    private static DiskSpace? Of(string holds, string path)
    {
        try
        {
            var drive = new DriveInfo(path);
            return new DiskSpace(holds, path, drive.AvailableFreeSpace, drive.TotalSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Not there yet (the data directory is made at start), or not readable: nothing to weigh.
            return null;
        }
    }
}
