namespace Taidon.Core.Accounts;

/// <summary>Personal access tokens for the HTTP API.</summary>
public interface IAccessTokenService
{
    /// <summary>Creates a token for the account; the returned value is the only time the token is visible.</summary>
    Task<CreatedAccessToken> CreateAsync(string accountId, string name, DateTimeOffset? expiresAt, CancellationToken cancellationToken);

    /// <summary>The account's tokens that are not revoked, newest first.</summary>
    Task<IReadOnlyList<AccessTokenInfo>> ListAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>Revokes one of the account's tokens; false when the account has no such token.</summary>
    Task<bool> RevokeAsync(string accountId, Guid tokenId, CancellationToken cancellationToken);

    /// <summary>Finds the account a presented token belongs to, or null when it is unknown, revoked or expired.</summary>
    Task<AccessTokenOwner?> AuthenticateAsync(string token, CancellationToken cancellationToken);
}

public sealed record AccessTokenInfo(
    Guid Id,
    string Name,
    string DisplayPart,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? ExpiresAt);

public sealed record CreatedAccessToken(AccessTokenInfo Info, string Token);

public sealed record AccessTokenOwner(string AccountId, Guid TokenId);
