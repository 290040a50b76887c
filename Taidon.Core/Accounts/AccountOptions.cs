using System.ComponentModel.DataAnnotations;

namespace Taidon.Core.Accounts;

/// <summary>Settings of <c>Taidon:Accounts</c>.</summary>
public sealed class AccountOptions
{
    public const string SectionName = "Taidon:Accounts";

    /// <summary>Registered accounts must confirm their email before they can sign in.</summary>
    public bool RequireConfirmedEmail { get; set; }

    /// <summary>The first admin's email; when empty, <c>admin@taidon.local</c> with a one-time password printed in the log.</summary>
    [EmailAddress(ErrorMessage = "Taidon:Accounts:AdminEmail must be an email address.")]
    public string? AdminEmail { get; set; }

    /// <summary>The first admin's password; when empty, a one-time password is generated and printed once in the log.</summary>
    public string? AdminPassword { get; set; }

    /// <summary>Anonymous accounts not seen for this many days are removed with their data.</summary>
    [Range(1, 3650, ErrorMessage = "Taidon:Accounts:AnonymousRetentionDays must be between 1 and 3650.")]
    public int AnonymousRetentionDays { get; set; } = 30;

    /// <summary>How long the sign-in cookie lives (sliding).</summary>
    [Range(1, 3650, ErrorMessage = "Taidon:Accounts:CookieDays must be between 1 and 3650.")]
    public int CookieDays { get; set; } = 30;

    /// <summary>Failed password attempts before an account is locked out for <see cref="LockoutMinutes"/>.</summary>
    [Range(1, 100, ErrorMessage = "Taidon:Accounts:MaxFailedAccessAttempts must be between 1 and 100.")]
    public int MaxFailedAccessAttempts { get; set; } = 5;

    [Range(1, 1440, ErrorMessage = "Taidon:Accounts:LockoutMinutes must be between 1 and 1440.")]
    public int LockoutMinutes { get; set; } = 15;
}

/// <summary>Settings of <c>Taidon:Oidc</c>: optional single sign-on through an OpenID Connect provider.</summary>
public sealed class OidcOptions
{
    public const string SectionName = "Taidon:Oidc";

    public const string Scheme = "oidc";

    /// <summary>The provider's issuer URL; OpenID Connect sign-in is offered only when this and the client id are set.</summary>
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>The label of the sign-in button.</summary>
    public string DisplayName { get; set; } = "Single sign-on";

    /// <summary>Refuse a provider whose metadata is not served over HTTPS (turn off only for a provider on loopback).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) && !string.IsNullOrWhiteSpace(ClientId);
}
