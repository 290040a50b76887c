using Taidon.Core.Audit;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Snapshots;

/// <summary>A layer as the cache page lists it: what is on disk, with what the control plane knows of its use.</summary>
public sealed record CachedLayer(string Key, string? ParentKey, long SizeBytes, long Hits, long BuildCostMilliseconds, DateTimeOffset CreatedAt, DateTimeOffset LastUsedAt, bool InUse, bool IsBase);

/// <summary>Runs in an hour, and how many found their start in the cache (hot, continued, or a layer other than the base state).</summary>
public sealed record CacheHour(DateTimeOffset Hour, int Runs, int Hits);

public sealed record CacheOverview(IReadOnlyList<CachedLayer> Layers, long TotalBytes, long BudgetBytes, double? HitRatioHour, double? HitRatioDay, IReadOnlyList<CacheHour> LastDay);

/// <summary>The snapshot cache for admins: its layers and use, eviction of one layer, the budget, a collection now. Changes are audited.</summary>
public sealed class SnapshotCacheAdministration(
    ILayerLedger ledger,
    IRunJournal journal,
    Lazy<IInstanceRuntime> runtime,
    LayerGarbageCollector collector,
    IEngineIdentitySource engine,
    IAuditLog audit,
    TimeProvider clock)
{
    public async Task<CacheOverview> OverviewAsync(CancellationToken cancellationToken)
    {
        var store = runtime.Value.Layers;
        var records = await ledger.AllAsync(cancellationToken);
        var layers = store.List()
            .Select(l =>
            {
                var record = records.GetValueOrDefault(l.Key.ToString());
                return new CachedLayer(l.Key.ToString(), l.Parent?.ToString(), l.SizeBytes, record?.Hits ?? 0, record?.BuildCostMilliseconds ?? 0,
                    l.CreatedAt, record?.LastUsedAt ?? l.CreatedAt, store.IsInUse(l.Key), l.Key == engine.Identity.Root);
            })
            .OrderByDescending(l => l.LastUsedAt)
            .ToList();

        var now = clock.GetUtcNow();
        var since = now.AddDays(-1);
        var runs = await journal.TallySinceAsync(since, cancellationToken);
        var hours = Enumerable.Range(0, 24)
            .Select(h => new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(h - 23))
            .Select(hour => new CacheHour(hour, runs.Count(r => r.StartedAt >= hour && r.StartedAt < hour.AddHours(1)), runs.Count(r => r.FoundInCache && r.StartedAt >= hour && r.StartedAt < hour.AddHours(1))))
            .ToList();
        var lastHour = runs.Where(r => r.StartedAt >= now.AddHours(-1)).ToList();
        return new CacheOverview(layers, layers.Sum(l => l.SizeBytes), await collector.BudgetAsync(cancellationToken),
            lastHour.Count == 0 ? null : (double)lastHour.Count(r => r.FoundInCache) / lastHour.Count,
            runs.Count == 0 ? null : (double)runs.Count(r => r.FoundInCache) / runs.Count,
            hours);
    }

    /// <summary>Removes one layer (never the base state, nor one being restored); a run that needs it replays instead.</summary>
    public async Task<bool> EvictAsync(string key, string actorId, CancellationToken cancellationToken)
    {
        if (!ChainKey.TryParse(key, out var chainKey))
        {
            throw new ArgumentException($"'{key}' is not a layer key (64 hexadecimal digits).", nameof(key));
        }

        if (chainKey == engine.Identity.Root)
        {
            throw new ArgumentException("The base state's layer is never evicted: every instance starts from it.", nameof(key));
        }

        var store = runtime.Value.Layers;
        var size = store.List().FirstOrDefault(l => l.Key == chainKey)?.SizeBytes ?? 0;
        var removed = !store.IsInUse(chainKey) && await store.RemoveAsync(chainKey, cancellationToken);
        if (removed)
        {
            await ledger.ForgetAsync([chainKey.ToString()], cancellationToken);
        }

        await audit.RecordAsync(new AuditEvent(AuditActions.CacheEvict, actorId, "layer:" + chainKey.Short, removed ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            removed ? $"{size} bytes freed" : "in use or already gone"), cancellationToken);
        return removed;
    }

    public async Task SetBudgetAsync(long bytes, string actorId, CancellationToken cancellationToken)
    {
        var before = await collector.BudgetAsync(cancellationToken);
        await collector.SetBudgetAsync(bytes, cancellationToken);
        await audit.RecordAsync(new AuditEvent(AuditActions.CacheBudget, actorId, "cache", AuditOutcome.Succeeded, $"{before} -> {bytes} bytes"), cancellationToken);
    }

    public async Task<LayerGarbageCollector.Collection> CollectAsync(string actorId, CancellationToken cancellationToken)
    {
        var collection = await collector.CollectAsync(cancellationToken);
        await audit.RecordAsync(new AuditEvent(AuditActions.CacheCollect, actorId, "cache", AuditOutcome.Succeeded,
            $"evicted {collection.Evicted} layers, freed {collection.FreedBytes} bytes, {collection.RemainingBytes} left"), cancellationToken);
        return collection;
    }
}
