using System.Collections.Concurrent;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>
/// What differs between the two ways the Kubernetes runtime keeps snapshot layers (<see cref="VolumeSnapshotLayers"/>,
/// <see cref="ArchiveLayers"/>): taking a layer of a stopped instance's volume, whether one is there and usable,
/// and removing it. A volume from a layer is the manifests' part (<see cref="InstanceManifests"/>); the rest of
/// the app sees <see cref="ISnapshotLayers"/>.
/// </summary>
public abstract class VolumeLayers : ISnapshotLayers
{
    private readonly ConcurrentDictionary<ChainKey, int> _inUse = new();

    /// <summary>The layer as recorded, ready or not yet (null when there is none).</summary>
    public abstract SnapshotLayer? Find(ChainKey key);

    /// <summary>Null when there is no layer of this key; false when it failed or is being deleted (it must be removed before the key is taken again).</summary>
    public abstract bool? IsUsable(ChainKey key);

    /// <summary>Why the layer of this key failed and cannot be restored; null when it did not.</summary>
    public abstract string? Failure(ChainKey key);

    /// <summary>
    /// Takes the layer <paramref name="key"/> of a stopped instance's <paramref name="volume"/>, once per key (one
    /// taken meanwhile by another instance or replica stands); returns when the volume may be used again.
    /// <paramref name="bytes"/>: the state's size as PostgreSQL measured it before the stop, when known.
    /// </summary>
    public abstract Task TakeAsync(string volume, ChainKey key, ChainKey? parent, long? bytes, CancellationToken cancellationToken);

    /// <summary>Waits until the layer (taken here or by another replica) can be restored; throws when it failed.</summary>
    public abstract Task WaitReadyAsync(ChainKey key, CancellationToken cancellationToken);

    public abstract bool Contains(ChainKey key);

    public IReadOnlyList<SnapshotLayer> List() => [.. Ready().OrderBy(l => l.CreatedAt)];

    /// <summary>The layers that can be restored now.</summary>
    protected abstract IEnumerable<SnapshotLayer> Ready();

    public long TotalBytes() => List().Sum(l => l.SizeBytes);

    public bool IsInUse(ChainKey key) => _inUse.TryGetValue(key, out var count) && count > 0;

    public abstract Task<bool> RemoveAsync(ChainKey key, CancellationToken cancellationToken);

    /// <summary>Marks the layer as read by a restore until the result is disposed (the garbage collector skips it meanwhile).</summary>
    public IDisposable Use(ChainKey key)
    {
        _inUse.AddOrUpdate(key, 1, (_, count) => count + 1);
        return new Release(() => _inUse.AddOrUpdate(key, 0, (_, count) => count - 1));
    }

    /// <summary>The parent key a layer's object records, if any.</summary>
    protected static ChainKey? ParentOf(IDictionary<string, string>? annotations) =>
        ChainKey.TryParse(InstanceNames.ValueOf(annotations, InstanceNames.ParentKeyAnnotation), out var parent) ? parent : null;

    /// <summary>The labels and annotations a layer's object carries: its component and state, its chain key and parent.</summary>
    protected static (Dictionary<string, string> Labels, Dictionary<string, string> Annotations) Metadata(string release, ChainKey key, ChainKey? parent)
    {
        var labels = InstanceNames.Labels(InstanceNames.LayerComponent, release);
        labels[InstanceNames.StateLabel] = key.Short;
        var annotations = new Dictionary<string, string> { [InstanceNames.ChainKeyAnnotation] = key.ToString() };
        if (parent is { } parentKey)
        {
            annotations[InstanceNames.ParentKeyAnnotation] = parentKey.ToString();
        }

        return (labels, annotations);
    }

    private sealed class Release(Action release) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                release();
            }
        }
    }
}
