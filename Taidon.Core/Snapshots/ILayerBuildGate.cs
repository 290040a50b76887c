using Taidon.Core.SqlChain;

namespace Taidon.Core.Snapshots;

/// <summary>
/// Makes sure one layer is built once, across runs and app replicas: whoever holds the gate for a key
/// builds the layer, and whoever gets it afterwards finds the layer there.
/// </summary>
public interface ILayerBuildGate
{
    Task<IAsyncDisposable> EnterAsync(ChainKey key, CancellationToken cancellationToken);
}
