using Taidon.Core.SqlChain;

namespace Taidon.Core.Snapshots;

/// <summary>A stored database state: the state after a chain prefix, under its chain key.</summary>
public sealed record SnapshotLayer(ChainKey Key, ChainKey? Parent, long SizeBytes, int FileCount, DateTimeOffset CreatedAt, string Driver);

/// <summary>A layer failed its check (a file missing, shorter, or different from its manifest): it was discarded and must be rebuilt by replay.</summary>
public sealed class SnapshotDamagedException(ChainKey key, string reason)
    : Exception($"The snapshot layer {key.Short} is damaged ({reason}); it was discarded and will be rebuilt by replaying its statements.")
{
    public ChainKey Key { get; } = key;
}
