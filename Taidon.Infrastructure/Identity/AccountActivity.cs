using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Taidon.Core.Accounts;
using Taidon.Infrastructure.Persistence;

namespace Taidon.Infrastructure.Identity;

/// <summary>
/// Records when an account was last seen, writing at most once per account every few minutes so that
/// busy pages and API clients do not turn into a stream of updates.
/// </summary>
public sealed class AccountActivity(IDbContextFactory<ControlPlaneDbContext> contexts, TimeProvider clock) : IAccountActivity
{
    private static readonly TimeSpan WriteInterval = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastWritten = new();

    public async Task TouchAsync(string accountId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_lastWritten.TryGetValue(accountId, out var last) && now - last < WriteInterval)
        {
            return;
        }

        _lastWritten[accountId] = now;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Users.Where(u => u.Id == accountId).ExecuteUpdateAsync(s => s.SetProperty(u => u.LastSeenAt, now), cancellationToken);
    }
}
