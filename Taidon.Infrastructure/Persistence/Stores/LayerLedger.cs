using Microsoft.EntityFrameworkCore;
using Taidon.Core.Snapshots;

namespace Taidon.Infrastructure.Persistence.Stores;

/// <summary>The snapshot layers' accounts in the control-plane database.</summary>
public sealed class LayerLedger(IDbContextFactory<ControlPlaneDbContext> contexts) : ILayerLedger
{
    public async Task<IReadOnlyDictionary<string, LayerUse>> AllAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Layers.AsNoTracking().ToDictionaryAsync(l => l.Key, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> MostRestoredAsync(int take, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Layers.AsNoTracking().Where(l => l.Hits > 0).OrderByDescending(l => l.Hits).Select(l => l.Key).Take(take).ToListAsync(cancellationToken);
    }

    public async Task ForgetAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Layers.Where(l => keys.Contains(l.Key)).ExecuteDeleteAsync(cancellationToken);
    }
}
