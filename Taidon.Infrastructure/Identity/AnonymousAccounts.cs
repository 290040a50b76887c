using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Taidon.Core.Accounts;
using Taidon.Core.Common;
using Taidon.Core.Git;
using Taidon.Core.Projects;
using Taidon.Infrastructure.Audit;
using Taidon.Infrastructure.Persistence;

namespace Taidon.Infrastructure.Identity;

/// <summary>Accounts made for visitors at once, without a form; they become registered accounts in place.</summary>
public sealed class AnonymousAccounts(
    UserManager<TaidonUser> users,
    IDbContextFactory<ControlPlaneDbContext> contexts,
    TimeProvider clock,
    TaidonTelemetry telemetry,
    IOptions<AccountOptions> options,
    IOptions<IdentityOptions> identity,
    RoleIds roles,
    AccountPrincipals principals,
    IProjectStore projects,
    IGitCredentialStore gitCredentials,
    ILogger<AnonymousAccounts> logger) : IGuestAccounts
{
    public const string UserNamePrefix = "guest-";

    async Task<string> IGuestAccounts.CreateAsync(CancellationToken cancellationToken) => (await CreateAsync(cancellationToken)).Id;

    async Task<NewGuest> IGuestAccounts.CreateWithTokenAsync(string tokenName, CancellationToken cancellationToken)
    {
        var (user, token) = await MakeAsync(tokenName, cancellationToken);
        return new NewGuest(user.Id, token!);
    }

    async Task<IReadOnlyList<string>> IGuestAccounts.RegisterAsync(string accountId, string email, string password, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(accountId);
        var result = user is null
            ? IdentityResult.Failed(new IdentityError { Code = "NoAccount", Description = "This account does not exist any more; reload the page." })
            : await RegisterAsync(user, email, password);
        return [.. result.Errors.Select(e => e.Description)];
    }

    public async Task<TaidonUser> CreateAsync(CancellationToken cancellationToken) => (await MakeAsync(null, cancellationToken)).User;

    /// <summary>
    /// A guest account, its student role and (with <paramref name="tokenName"/>) an API token with its
    /// audit row, written in one transaction that commits without waiting for the disk: a class arriving at once waits for three round trips each,
    /// not for UserManager's eight (a guest has no password or e-mail for its validators to check, and a
    /// random name of 48 bits that the unique index guards).
    /// </summary>
    private async Task<(TaidonUser User, string? Token)> MakeAsync(string? tokenName, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var name = UserNamePrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var user = new TaidonUser
        {
            UserName = name,
            NormalizedUserName = users.NormalizeName(name),
            LockoutEnabled = identity.Value.Lockout.AllowedForNewUsers,
            IsAnonymous = true,
            CreatedAt = now,
            LastSeenAt = now,
        };

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Its commit does not wait for the disk: a class arriving at once commits hundreds of these beside
        // its saves and runs, and a guest lost to a crash in the next moment had done nothing yet (its
        // token is refused, and the page makes another).
        await db.Database.ExecuteSqlRawAsync("SET LOCAL synchronous_commit = off", cancellationToken);
        db.Users.Add(user);
        db.UserRoles.Add(new IdentityUserRole<string> { UserId = user.Id, RoleId = await roles.OfAsync(TaidonRoles.Student, cancellationToken) });
        string? token = null;
        if (tokenName is not null)
        {
            (var record, token) = AccessTokenService.NewToken(user.Id, tokenName, expiresAt: null, now);
            db.PersonalAccessTokens.Add(record);
            db.AuditEvents.Add(AuditLog.Entry(AccessTokenService.Created(record), now));
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        telemetry.AccountsCreated.Add(1, new KeyValuePair<string, object?>("kind", "anonymous"));
        logger.LogInformation("Created anonymous account {AccountId}", user.Id);
        return (user, token);
    }

    /// <summary>
    /// Turns an anonymous account into a registered one, keeping its id and so everything it owns.
    /// </summary>
    public async Task<IdentityResult> RegisterAsync(TaidonUser user, string email, string password)
    {
        if (!user.IsAnonymous)
        {
            return IdentityResult.Failed(new IdentityError { Code = "AlreadyRegistered", Description = "This account is already registered." });
        }

        var result = await users.SetUserNameAsync(user, email);
        if (result.Succeeded)
        {
            result = await users.SetEmailAsync(user, email);
        }

        if (result.Succeeded)
        {
            result = await users.AddPasswordAsync(user, password);
        }

        if (!result.Succeeded)
        {
            // Put the account back as it was so the visitor can try again with other values.
            await using var db = await contexts.CreateDbContextAsync();
            var stored = await db.Users.AsNoTracking().SingleAsync(u => u.Id == user.Id);
            user.UserName = stored.UserName;
            user.NormalizedUserName = stored.NormalizedUserName;
            user.Email = stored.Email;
            user.NormalizedEmail = stored.NormalizedEmail;
            return result;
        }

        user.IsAnonymous = false;
        result = await users.UpdateAsync(user);
        principals.Forget(user.Id);
        if (result.Succeeded)
        {
            telemetry.AccountsCreated.Add(1, new KeyValuePair<string, object?>("kind", "registered"));
            logger.LogInformation("Anonymous account {AccountId} registered", user.Id);
        }

        return result;
    }

    /// <summary>Removes anonymous accounts not seen within the retention period; returns how many.</summary>
    public async Task<int> RemoveStaleAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow().AddDays(-options.Value.AnonymousRetentionDays);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var stale = await db.Users.Where(u => u.IsAnonymous && u.LastSeenAt < cutoff).Select(u => u.Id).ToListAsync(cancellationToken);

        // Their records go with the accounts (cascade); their project folders and Git tokens are removed here.
        var removed = await db.Users.Where(u => stale.Contains(u.Id)).ExecuteDeleteAsync(cancellationToken);
        foreach (var account in stale)
        {
            await projects.DeleteAccountAsync(account, cancellationToken);
            await gitCredentials.DeleteAccountAsync(account, cancellationToken);
        }

        if (removed > 0)
        {
            logger.LogInformation("Removed {Count} anonymous accounts not seen since {Cutoff:u}", removed, cutoff);
        }

        return removed;
    }
}
