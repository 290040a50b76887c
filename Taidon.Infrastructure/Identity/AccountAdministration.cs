using Taidon.Core.Quotas;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Taidon.Core.Accounts;
using Taidon.Core.Audit;
using Taidon.Core.Git;
using Taidon.Core.Instances;
using Taidon.Core.Projects;
using Taidon.Infrastructure.Persistence;

namespace Taidon.Infrastructure.Identity;

/// <summary>
/// Accounts for admins: search, admin role, lock, delete with everything the account owns, plan. Every
/// change is audited; an admin cannot lock, demote or delete their own account (an installation keeps an admin).
/// </summary>
public sealed class AccountAdministration(
    UserManager<TaidonUser> users,
    IDbContextFactory<ControlPlaneDbContext> contexts,
    IInstanceRuntime runtime,
    IProjectStore projects,
    IGitCredentialStore gitCredentials,
    QuotaService quotas,
    AccountPrincipals principals,
    IAuditLog audit) : IAccountAdministration
{
    /// <summary>A page of accounts whose name, email or id contains the text (guests or registered ones only, when asked), newest first.</summary>
    public async Task<IReadOnlyList<AdminAccount>> SearchAsync(string? text, bool? anonymous, int skip, CancellationToken cancellationToken)
    {
        var found = await FindPageAsync(text, anonymous, skip, cancellationToken);
        var overrides = new List<AdminAccount>();
        foreach (var account in found)
        {
            var quota = await quotas.ForAccountAsync(account.Id, cancellationToken);
            overrides.Add(account with { Override = quota.Override });
        }

        return overrides;
    }

    private async Task<IReadOnlyList<AdminAccount>> FindPageAsync(string? text, bool? anonymous, int skip, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var adminRole = await db.Roles.AsNoTracking().Where(r => r.Name == TaidonRoles.Admin).Select(r => r.Id).SingleOrDefaultAsync(cancellationToken);
        var query = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(text))
        {
            var pattern = "%" + text.Trim() + "%";
            query = query.Where(u => EF.Functions.ILike(u.UserName ?? "", pattern) || EF.Functions.ILike(u.Email ?? "", pattern) || u.Id == text.Trim());
        }

        if (anonymous is { } kind)
        {
            query = query.Where(u => u.IsAnonymous == kind);
        }

        var now = DateTimeOffset.UtcNow;
        return await query
            .OrderByDescending(u => u.CreatedAt).ThenBy(u => u.Id)
            .Skip(Math.Max(0, skip)).Take(AccountPages.PageSize)
            .Select(u => new AdminAccount(
                u.Id, u.UserName, u.Email, u.IsAnonymous,
                db.UserRoles.Any(r => r.UserId == u.Id && r.RoleId == adminRole),
                u.LockoutEnd != null && u.LockoutEnd > now,
                u.CreatedAt, u.LastSeenAt,
                db.AccountPlans.Where(a => a.AccountId == u.Id).Select(a => a.PlanName).FirstOrDefault(),
                db.Instances.Count(i => i.OwnerId == u.Id)))
            .ToListAsync(cancellationToken);
    }

    public async Task SetAdminAsync(string accountId, bool admin, string actorId, CancellationToken cancellationToken)
    {
        var user = await FindAsync(accountId, actorId, admin ? null : "remove your own Admin role");
        if (user.IsAnonymous && admin)
        {
            throw new AccountChangeRefusedException("A guest account cannot be an admin: it has no password to sign in with.");
        }

        var result = admin ? await users.AddToRoleAsync(user, TaidonRoles.Admin) : await users.RemoveFromRoleAsync(user, TaidonRoles.Admin);
        if (result.Succeeded)
        {
            // Sessions check the security stamp: the account's sessions (open circuits too) end at their next check
            // and sign in again with the roles it has now, instead of keeping the Admin role they started with.
            result = await users.UpdateSecurityStampAsync(user);
        }

        await AuditedAsync(admin ? AuditActions.AdminGrant : AuditActions.AdminRevoke, actorId, accountId, result, null, cancellationToken);
    }

    /// <summary>Locks an account out until unlocked (its sessions end at their next check) or lets it back in.</summary>
    public async Task SetLockedAsync(string accountId, bool locked, string actorId, CancellationToken cancellationToken)
    {
        var user = await FindAsync(accountId, actorId, locked ? "lock your own account" : null);
        var result = await users.SetLockoutEnabledAsync(user, true);
        if (result.Succeeded)
        {
            result = await users.SetLockoutEndDateAsync(user, locked ? DateTimeOffset.MaxValue : null);
        }

        if (result.Succeeded && locked)
        {
            // Sessions check the security stamp: a locked account is signed out everywhere.
            result = await users.UpdateSecurityStampAsync(user);
        }

        await AuditedAsync(locked ? AuditActions.AccountLock : AuditActions.AccountUnlock, actorId, accountId, result, null, cancellationToken);
    }

    /// <summary>Deletes an account with its instances (processes and data), projects and records.</summary>
    public async Task DeleteAsync(string accountId, string actorId, CancellationToken cancellationToken)
    {
        var user = await FindAsync(accountId, actorId, "delete your own account here");
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            foreach (var instance in await db.Instances.Where(i => i.OwnerId == accountId).Select(i => i.Id).ToListAsync(cancellationToken))
            {
                await runtime.DeleteAsync(instance, cancellationToken);
            }
        }

        await projects.DeleteAccountAsync(accountId, cancellationToken);
        await gitCredentials.DeleteAccountAsync(accountId, cancellationToken);
        var result = await users.DeleteAsync(user);
        await AuditedAsync(AuditActions.AccountDelete, actorId, accountId, result, $"{user.UserName} ({(user.IsAnonymous ? "guest" : user.Email)})", cancellationToken);
    }

    public Task AssignPlanAsync(string accountId, string? planName, QuotaOverride? limits, string actorId, CancellationToken cancellationToken) =>
        quotas.AssignAsync(accountId, planName, limits, actorId, cancellationToken);

    private async Task<TaidonUser> FindAsync(string accountId, string actorId, string? notToSelf)
    {
        if (notToSelf is not null && accountId == actorId)
        {
            throw new AccountChangeRefusedException($"You cannot {notToSelf}: ask another admin.");
        }

        return await users.FindByIdAsync(accountId) ?? throw new AccountChangeRefusedException($"There is no account {accountId}.");
    }

    private async Task AuditedAsync(string action, string actorId, string accountId, IdentityResult result, string? detail, CancellationToken cancellationToken)
    {
        // The API's next request of the account reads its roles and lock again.
        principals.Forget(accountId);
        var why = string.Join(" ", result.Errors.Select(e => e.Description));
        await audit.RecordAsync(new AuditEvent(action, actorId, "account:" + accountId, result.Succeeded ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            result.Succeeded ? detail : why), cancellationToken);
        if (!result.Succeeded)
        {
            throw new AccountChangeRefusedException(why);
        }
    }
}
