using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Taidon.Core.Accounts;

namespace Taidon.Infrastructure.Identity;

/// <summary>Adds Taidon's claims (anonymous account, password to replace) to the signed-in principal.</summary>
public sealed class TaidonClaimsPrincipalFactory(
    UserManager<TaidonUser> users,
    RoleManager<IdentityRole> roles,
    IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<TaidonUser, IdentityRole>(users, roles, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(TaidonUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        if (user.IsAnonymous)
        {
            identity.AddClaim(new Claim(TaidonClaims.Anonymous, "true"));
        }

        if (user.MustChangePassword)
        {
            identity.AddClaim(new Claim(TaidonClaims.MustChangePassword, "true"));
        }

        return identity;
    }
}
