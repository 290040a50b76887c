using Microsoft.EntityFrameworkCore;
using Taidon.Core.Accounts;
using Taidon.Infrastructure.Persistence;

namespace Taidon.Infrastructure.Identity;

public sealed class AccountDirectory(IDbContextFactory<ControlPlaneDbContext> contexts, TimeProvider clock) : IAccountDirectory
{
    public async Task<AccountSummary> SummarizeAsync(CancellationToken cancellationToken)
    {
        var dayAgo = clock.GetUtcNow().AddDays(-1);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var anonymous = await db.Users.CountAsync(u => u.IsAnonymous, cancellationToken);
        var registered = await db.Users.CountAsync(u => !u.IsAnonymous, cancellationToken);
        var admins = await (
            from userRole in db.UserRoles
            join role in db.Roles on userRole.RoleId equals role.Id
            where role.Name == TaidonRoles.Admin
            select userRole.UserId).CountAsync(cancellationToken);
        var active = await db.Users.CountAsync(u => u.LastSeenAt >= dayAgo, cancellationToken);
        var created = await db.Users.CountAsync(u => u.CreatedAt >= dayAgo, cancellationToken);
        return new AccountSummary(anonymous, registered, admins, active, created);
    }
}
