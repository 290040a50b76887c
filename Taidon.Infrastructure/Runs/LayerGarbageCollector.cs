using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Taidon.Core.Audit;
using Taidon.Core.Instances;
using Taidon.Core.Common;
using Taidon.Core.Snapshots;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Persistence.Records;

namespace Taidon.Infrastructure.Runs;

/// <summary>Settings of <c>Taidon:Snapshots</c>.</summary>
public sealed class SnapshotOptions
{
    public const string SectionName = "Taidon:Snapshots";

    /// <summary>The most the layers may take on disk; the garbage collector evicts the least valuable beyond it.</summary>
    [Range(1L << 20, long.MaxValue, ErrorMessage = "Taidon:Snapshots:BudgetBytes must be at least 1 MiB (1048576).")]
    public long BudgetBytes { get; set; } = 20L * 1024 * 1024 * 1024;

    /// <summary>How long a recorded statement outcome (shown for cached statements) is kept.</summary>
    [Range(1, 3650, ErrorMessage = "Taidon:Snapshots:OutcomeRetentionDays must be between 1 and 3650.")]
    public int OutcomeRetentionDays { get; set; } = 90;
}

/// <summary>
/// Keeps the snapshot cache under its budget: evicts the layers worth least per byte (what they save
/// when hit, how often they are hit, how recently) first; never the base state, never a layer being
/// restored. Runs as a Hangfire job.
/// </summary>
public sealed class LayerGarbageCollector(
    IDbContextFactory<ControlPlaneDbContext> contexts,
    Lazy<IInstanceRuntime> runtime,
    StatementOutcomeStore outcomes,
    EngineIdentityProvider engine,
    TaidonTelemetry telemetry,
    IAuditLog audit,
    IOptions<SnapshotOptions> options,
    TimeProvider clock,
    ILogger<LayerGarbageCollector> logger)
{
    public sealed record Collection(int Evicted, long FreedBytes, long RemainingBytes);

    public async Task<Collection> CollectAsync(CancellationToken cancellationToken)
    {
        var store = runtime.Value.Layers;
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var records = await db.Layers.ToDictionaryAsync(l => l.Key, cancellationToken);
        var layers = store.List();

        // Records of layers that are no longer on disk go.
        var present = layers.Select(l => l.Key.ToString()).ToHashSet();
        db.Layers.RemoveRange(records.Values.Where(r => !present.Contains(r.Key)));

        var total = layers.Sum(l => l.SizeBytes);
        var budget = await BudgetAsync(cancellationToken);
        var evicted = 0;
        long freed = 0;
        foreach (var layer in layers.OrderBy(l => Value(l, records.GetValueOrDefault(l.Key.ToString()), now)))
        {
            if (total <= budget)
            {
                break;
            }

            if (layer.Key == engine.Identity.Root || store.IsInUse(layer.Key))
            {
                continue;
            }

            if (await store.RemoveAsync(layer.Key, cancellationToken))
            {
                total -= layer.SizeBytes;
                freed += layer.SizeBytes;
                evicted++;
                telemetry.Evictions.Add(1);
                if (records.TryGetValue(layer.Key.ToString(), out var record))
                {
                    db.Layers.Remove(record);
                }

                logger.LogInformation("Evicted snapshot layer {Key} ({Bytes} bytes)", layer.Key.Short, layer.SizeBytes);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        if (evicted > 0)
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.CacheEvict, null, "cache", AuditOutcome.Succeeded,
                $"the collection evicted {evicted} layers ({freed} bytes) to keep under {budget} bytes"), cancellationToken);
        }

        await outcomes.ForgetAsync(now.AddDays(-options.Value.OutcomeRetentionDays), cancellationToken);
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
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var stored = await db.Settings.AsNoTracking().Where(s => s.Key == BudgetSetting).Select(s => s.Value).SingleOrDefaultAsync(cancellationToken);
        return long.TryParse(stored, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bytes) ? bytes : options.Value.BudgetBytes;
    }

    public async Task SetBudgetAsync(long bytes, CancellationToken cancellationToken)
    {
        if (bytes < 1L << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "The cache budget must be at least 1 MiB.");
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var setting = await db.Settings.FindAsync([BudgetSetting], cancellationToken);
        if (setting is null)
        {
            setting = new SettingRecord { Key = BudgetSetting, Value = "" };
            db.Settings.Add(setting);
        }

        setting.Value = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        setting.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>What keeping a layer is worth per byte: replay time saved per hit, times hits (plus one), fading with a day's disuse.</summary>
    internal static double Value(SnapshotLayer layer, LayerRecord? record, DateTimeOffset now)
    {
        var hits = (record?.Hits ?? 0) + 1;
        var cost = Math.Max(record?.BuildCostMilliseconds ?? 1, 1);
        var lastUsed = record?.LastUsedAt ?? layer.CreatedAt;
        var idleDays = Math.Max(0, (now - lastUsed).TotalDays);
        return hits * (double)cost / Math.Max(layer.SizeBytes, 1) / (1 + idleDays);
    }
}
