using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Taidon.Infrastructure.Persistence;

namespace Taidon.Infrastructure.Identity;

/// <summary>The roles' ids, each read once (the seeder makes the roles at start, and a role's id never changes): a new guest's role costs no query.</summary>
public sealed class RoleIds(IDbContextFactory<ControlPlaneDbContext> contexts)
{
    private readonly ConcurrentDictionary<string, string> _ids = new(StringComparer.Ordinal);

    public async ValueTask<string> OfAsync(string role, CancellationToken cancellationToken)
    {
        if (_ids.TryGetValue(role, out var id))
        {
            return id;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var normalized = role.ToUpperInvariant();
        id = await db.Roles.Where(r => r.NormalizedName == normalized).Select(r => r.Id).SingleOrDefaultAsync(cancellationToken)
            ?? throw new InvalidOperationException($"The role {role} does not exist; the account seeder makes it when the app starts.");
        return _ids.GetOrAdd(role, id);
    }
}
