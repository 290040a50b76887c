namespace Taidon.Infrastructure.Identity;

/// <summary>A stored API token: its SHA-256 only, never the token.</summary>
public sealed class PersonalAccessToken
{
    public Guid Id { get; set; }

    public required string UserId { get; set; }

    public TaidonUser? User { get; set; }

    public required string Name { get; set; }

    /// <summary>Lowercase hex SHA-256 of the token.</summary>
    public required string TokenHash { get; set; }

    /// <summary>The first characters of the token, to recognise it in a list.</summary>
    public required string DisplayPart { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}
