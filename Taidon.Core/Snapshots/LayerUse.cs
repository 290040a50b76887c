namespace Taidon.Core.Snapshots;

/// <summary>A snapshot layer as the cache keeps account of it: what it saves and how much it is used.</summary>
public sealed class LayerUse
{
    public required string Key { get; set; }

    public string? ParentKey { get; set; }

    public long SizeBytes { get; set; }

    /// <summary>The replay time the layer saves, in milliseconds.</summary>
    public long BuildCostMilliseconds { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LastUsedAt { get; set; }

    public long Hits { get; set; }

    /// <summary>
    /// The account whose run took the layer inside its own script (a state only its edits reach), or null
    /// for a layer of the course (init, seed) or one another account's run has restored too. An account's
    /// layers count against its share of the cache and go before shared ones.
    /// </summary>
    public string? OwnerId { get; set; }
}
