using Microsoft.EntityFrameworkCore;
using Taidon.Core.Common;
using Taidon.Infrastructure.Persistence.Records;

namespace Taidon.Infrastructure.Persistence.Stores;

/// <summary>Admins' settings in the control-plane database.</summary>
public sealed class SettingStore(IDbContextFactory<ControlPlaneDbContext> contexts, TimeProvider clock) : ISettingStore
{
    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Settings.AsNoTracking().Where(s => s.Key == key).Select(s => s.Value).SingleOrDefaultAsync(cancellationToken);
    }

    public async Task SetAsync(string key, string value, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var setting = await db.Settings.FindAsync([key], cancellationToken);
        if (setting is null)
        {
            setting = new SettingRecord { Key = key, Value = "" };
            db.Settings.Add(setting);
        }

        setting.Value = value;
        setting.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }
}
