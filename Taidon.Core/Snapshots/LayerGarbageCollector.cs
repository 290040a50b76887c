using System.Globalization;
using Microsoft.Extensions.Logging;
using Taidon.Core.Audit;
using Taidon.Core.Common;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Snapshots;

/// <summary>
/// Keeps the snapshot cache under its budget: evicts the layers worth least per byte (what they save
/// when hit, how often they are hit, how recently) first, an account's own layers (taken inside its
/// scripts) before the course's, and an account's own beyond its share whatever the total; never the base
/// state, never a layer being restored. Runs as a Hangfire job.
/// </summary>
public sealed class LayerGarbageCollector(
    ILayerLedger ledger,
    ISettingStore settings,
    Lazy<IInstanceRuntime> runtime,
    IStatementOutcomeStore outcomes,
    IEngineIdentitySource engine,
    TaidonTelemetry telemetry,
    IAuditLog audit,
    SnapshotOptions options,
    TimeProvider clock,
    ILogger<LayerGarbageCollector> logger)
{
    public sealed record Collection(int Evicted, long FreedBytes, long RemainingBytes);

    public async Task<Collection> CollectAsync(CancellationToken cancellationToken)
    {
        var store = runtime.Value.Layers;
        var now = clock.GetUtcNow();
        var records = await ledger.AllAsync(cancellationToken);
        var layers = store.List();

        // Accounts of layers that are no longer on disk go, with those evicted now.
        var present = layers.Select(l => l.Key.ToString()).ToHashSet();
        var forgotten = records.Keys.Where(k => !present.Contains(k)).ToList();

        var total = layers.Sum(l => l.SizeBytes);
        var budget = await BudgetAsync(cancellationToken);
        var evicted = 0;
        long freed = 0;

        async Task<bool> EvictAsync(SnapshotLayer layer)
        {
            if (layer.Key == engine.Identity.Root || store.IsInUse(layer.Key) || !await store.RemoveAsync(layer.Key, cancellationToken))
            {
                return false;
            }

            total -= layer.SizeBytes;
            freed += layer.SizeBytes;
            evicted++;
            telemetry.Evictions.Add(1);
            forgotten.Add(layer.Key.ToString());
            logger.LogInformation("Evicted snapshot layer {Key} ({Bytes} bytes)", layer.Key.Short, layer.SizeBytes);
            return true;
        }

        string? OwnerOf(SnapshotLayer layer) => records.GetValueOrDefault(layer.Key.ToString())?.OwnerId;

        // First, each account within its share: its own layers beyond it go, least valuable first.
        var share = (long)(budget * options.AccountSharePercent / 100);
        var evictedNow = new HashSet<ChainKey>();
        foreach (var owned in layers.Where(l => OwnerOf(l) is not null).GroupBy(l => OwnerOf(l)!))
        {
            var held = owned.Sum(l => l.SizeBytes);
            foreach (var layer in owned.OrderBy(l => Value(l, records.GetValueOrDefault(l.Key.ToString()), now)))
            {
                if (held <= share)
                {
                    break;
                }

                if (await EvictAsync(layer))
                {
                    held -= layer.SizeBytes;
                    evictedNow.Add(layer.Key);
                }
            }
        }

        // Then the cache within its budget: students' own layers before the course's, each the least valuable first.
        foreach (var layer in layers.Where(l => !evictedNow.Contains(l.Key))
                     .OrderBy(l => OwnerOf(l) is null)
                     .ThenBy(l => Value(l, records.GetValueOrDefault(l.Key.ToString()), now)))
        {
            if (total <= budget)
            {
                break;
            }

            await EvictAsync(layer);
        }

        await ledger.ForgetAsync(forgotten, cancellationToken);
        if (evicted > 0)
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.CacheEvict, null, "cache", AuditOutcome.Succeeded,
                $"the collection evicted {evicted} layers ({freed} bytes) to keep under {budget} bytes"), cancellationToken);
        }

        await outcomes.ForgetAsync(now.AddDays(-options.OutcomeRetentionDays), cancellationToken);
        if (total > budget)
        {
            logger.LogWarning("The snapshot cache holds {Bytes} bytes, over its budget of {Budget}: what is left is in use or the base state", total, budget);
        }

        return new Collection(evicted, freed, total);
    }

    private const string BudgetSetting = "snapshots.budget-bytes";

    /// <summary>The cache's budget: as an admin set it, else <c>Taidon:Snapshots:BudgetBytes</c>.</summary>
    public async Task<long> BudgetAsync(CancellationToken cancellationToken)
    {
        var stored = await settings.GetAsync(BudgetSetting, cancellationToken);
        return long.TryParse(stored, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) ? bytes : options.BudgetBytes;
    }

    public async Task SetBudgetAsync(long bytes, CancellationToken cancellationToken)
    {
        if (bytes < 1L << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "The cache budget must be at least 1 MiB.");
        }

        await settings.SetAsync(BudgetSetting, bytes.ToString(CultureInfo.InvariantCulture), cancellationToken);
    }

    /// <summary>What keeping a layer is worth per byte: replay time saved per hit, times hits (plus one), fading with a day's disuse.</summary>
    internal static double Value(SnapshotLayer layer, LayerUse? record, DateTimeOffset now)
    {
        var hits = (record?.Hits ?? 0) + 1;
        var cost = Math.Max(record?.BuildCostMilliseconds ?? 1, 1);
        var lastUsed = record?.LastUsedAt ?? layer.CreatedAt;
        var idleDays = Math.Max(0, (now - lastUsed).TotalDays);
        return hits * (double)cost / Math.Max(layer.SizeBytes, 1) / (1 + idleDays);
    }
}
