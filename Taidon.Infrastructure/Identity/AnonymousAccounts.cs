using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Taidon.Core.Accounts;
using Taidon.Core.Common;
using Taidon.Core.Git;
using Taidon.Core.Projects;
using Taidon.Infrastructure.Persistence;

namespace Taidon.Infrastructure.Identity;

/// <summary>Accounts made for visitors at once, without a form; they become registered accounts in place.</summary>
public sealed class AnonymousAccounts(
    UserManager<TaidonUser> users,
    IDbContextFactory<ControlPlaneDbContext> contexts,
    TimeProvider clock,
    TaidonTelemetry telemetry,
    IOptions<AccountOptions> options,
    IProjectStore projects,
    IGitCredentialStore gitCredentials,
    ILogger<AnonymousAccounts> logger) : IGuestAccounts
{
    public const string UserNamePrefix = "guest-";

    async Task<string> IGuestAccounts.CreateAsync(CancellationToken cancellationToken) => (await CreateAsync(cancellationToken)).Id;

    async Task<IReadOnlyList<string>> IGuestAccounts.RegisterAsync(string accountId, string email, string password, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(accountId);
        var result = user is null
            ? IdentityResult.Failed(new IdentityError { Code = "NoAccount", Description = "This account does not exist any more; reload the page." })
            : await RegisterAsync(user, email, password);
        return [.. result.Errors.Select(e => e.Description)];
    }

    public async Task<TaidonUser> CreateAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var user = new TaidonUser
        {
            UserName = UserNamePrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
            IsAnonymous = true,
            CreatedAt = now,
            LastSeenAt = now,
        };
        Check(await users.CreateAsync(user), "create an anonymous account");
        Check(await users.AddToRoleAsync(user, TaidonRoles.Student), "give the anonymous account its role");
        telemetry.AccountsCreated.Add(1, new KeyValuePair<string, object?>("kind", "anonymous"));
        logger.LogInformation("Created anonymous account {AccountId}", user.Id);
        cancellationToken.ThrowIfCancellationRequested();
        return user;
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

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"Could not {what}: {string.Join("; ", result.Errors.Select(e => e.Description))}");
        }
    }
}
