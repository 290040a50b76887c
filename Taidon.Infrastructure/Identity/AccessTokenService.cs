using Microsoft.EntityFrameworkCore;
using Taidon.Core.Accounts;
using Taidon.Core.Audit;
using Taidon.Infrastructure.Persistence;

namespace Taidon.Infrastructure.Identity;

public sealed class AccessTokenService(IDbContextFactory<ControlPlaneDbContext> contexts, IAuditLog audit, TimeProvider clock) : IAccessTokenService
{
    public const int MaxTokensPerAccount = 50;

    public async Task<CreatedAccessToken> CreateAsync(string accountId, string name, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        name = name.Trim();
        if (name.Length is 0 or > 100)
        {
            throw new ArgumentException("A token needs a name of 1 to 100 characters.", nameof(name));
        }

        var now = clock.GetUtcNow();
        if (expiresAt <= now)
        {
            throw new ArgumentException("A token's expiry must be in the future.", nameof(expiresAt));
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var active = await db.PersonalAccessTokens.CountAsync(t => t.UserId == accountId && t.RevokedAt == null, cancellationToken);
        if (active >= MaxTokensPerAccount)
        {
            throw new InvalidOperationException($"An account can hold at most {MaxTokensPerAccount} tokens; revoke one you no longer use.");
        }

        var (record, token) = NewToken(accountId, name, expiresAt, now);
        db.PersonalAccessTokens.Add(record);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(Created(record), cancellationToken);
        return new CreatedAccessToken(ToInfo(record), token);
    }

    /// <summary>A new token's record (only its hash is kept) and its value.</summary>
    internal static (PersonalAccessToken Record, string Token) NewToken(string accountId, string name, DateTimeOffset? expiresAt, DateTimeOffset now)
    {
        var token = AccessTokens.Generate();
        return (new PersonalAccessToken
        {
            Id = Guid.CreateVersion7(now),
            UserId = accountId,
            Name = name,
            TokenHash = AccessTokens.Hash(token),
            DisplayPart = AccessTokens.DisplayPart(token),
            CreatedAt = now,
            ExpiresAt = expiresAt,
        }, token);
    }

    /// <summary>What the audit log says of a token made.</summary>
    internal static AuditEvent Created(PersonalAccessToken record) =>
        new(AuditActions.TokenCreate, record.UserId, "token:" + record.Id, AuditOutcome.Succeeded, record.Name);

    public async Task<IReadOnlyList<AccessTokenInfo>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var records = await db.PersonalAccessTokens
            .Where(t => t.UserId == accountId && t.RevokedAt == null)
            .OrderByDescending(t => t.CreatedAt)
            .ToListAsync(cancellationToken);
        return records.Select(ToInfo).ToList();
    }

    public async Task<bool> RevokeAsync(string accountId, Guid tokenId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var revoked = await db.PersonalAccessTokens
            .Where(t => t.Id == tokenId && t.UserId == accountId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
        if (revoked > 0)
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.TokenRevoke, accountId, "token:" + tokenId, AuditOutcome.Succeeded), cancellationToken);
        }

        return revoked > 0;
    }

    public async Task<AccessTokenOwner?> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        if (!AccessTokens.LooksLikeToken(token))
        {
            return null;
        }

        var hash = AccessTokens.Hash(token);
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.PersonalAccessTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash && t.RevokedAt == null && (t.ExpiresAt == null || t.ExpiresAt > now))
            .Select(t => new { t.Id, t.UserId, t.LastUsedAt })
            .SingleOrDefaultAsync(cancellationToken);
        if (record is null)
        {
            return null;
        }

        if (record.LastUsedAt is null || now - record.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            await db.PersonalAccessTokens.Where(t => t.Id == record.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), cancellationToken);
        }

        return new AccessTokenOwner(record.UserId, record.Id);
    }

    private static AccessTokenInfo ToInfo(PersonalAccessToken t) =>
        new(t.Id, t.Name, t.DisplayPart, t.CreatedAt, t.LastUsedAt, t.ExpiresAt);
}
