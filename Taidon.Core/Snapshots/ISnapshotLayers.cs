using Taidon.Core.SqlChain;

namespace Taidon.Core.Snapshots;

/// <summary>
/// The snapshot layers a runtime keeps, as the cache page, the garbage collector and the gauges see
/// them: layers on the local disk for the embedded runtime, VolumeSnapshots for the Kubernetes runtime.
/// </summary>
public interface ISnapshotLayers
{
    /// <summary>Whether the layer is stored and can be restored now.</summary>
    bool Contains(ChainKey key);

    /// <summary>The stored layers, oldest first.</summary>
    IReadOnlyList<SnapshotLayer> List();

    /// <summary>The bytes all layers take.</summary>
    long TotalBytes();

    /// <summary>Whether a restore is reading the layer now (the garbage collector leaves such a layer alone).</summary>
    bool IsInUse(ChainKey key);

    /// <summary>Removes a layer; false when it was not there. A run that needs it afterwards replays its statements.</summary>
    Task<bool> RemoveAsync(ChainKey key, CancellationToken cancellationToken);
}
