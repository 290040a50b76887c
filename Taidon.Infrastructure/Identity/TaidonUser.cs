using Microsoft.AspNetCore.Identity;

namespace Taidon.Infrastructure.Identity;

/// <summary>An account: anonymous (made for a visitor at once) or registered (email and password, or OpenID Connect).</summary>
public sealed class TaidonUser : IdentityUser
{
    public bool IsAnonymous { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>Set for the generated first admin: the one-time password must be replaced at first sign-in.</summary>
    public bool MustChangePassword { get; set; }
}
