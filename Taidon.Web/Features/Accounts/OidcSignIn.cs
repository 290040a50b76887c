using Taidon.Core.Accounts;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace Taidon.Web.Features.Accounts;

public static class OidcSignIn
{
    /// <summary>Offers "sign in with" an OpenID Connect provider when <c>Taidon:Oidc</c> names one (authorization code flow with PKCE).</summary>
    public static void AddOidcSignIn(this IServiceCollection services, IConfiguration configuration, AuthenticationBuilder authentication)
    {
        var oidc = configuration.GetSection(OidcOptions.SectionName).Get<OidcOptions>() ?? new OidcOptions();
        if (!oidc.Enabled)
        {
            return;
        }

        authentication.AddOpenIdConnect(OidcOptions.Scheme, oidc.DisplayName, options =>
        {
            options.SignInScheme = IdentityConstants.ExternalScheme;
            options.Authority = oidc.Authority;
            options.ClientId = oidc.ClientId;
            options.ClientSecret = string.IsNullOrEmpty(oidc.ClientSecret) ? null : oidc.ClientSecret;
            options.ResponseType = "code";
            options.UsePkce = true;
            options.RequireHttpsMetadata = oidc.RequireHttpsMetadata;
            options.GetClaimsFromUserInfoEndpoint = true;
            options.SaveTokens = false;
            options.CallbackPath = "/signin-oidc";
            options.Scope.Clear();
            options.Scope.Add("openid");
            options.Scope.Add("profile");
            options.Scope.Add("email");
            // Also from the user info endpoint, not only the ID token.
            options.ClaimActions.MapUniqueJsonKey(EmailVerifiedClaim, EmailVerifiedClaim);
        });
    }

    public const string EmailVerifiedClaim = "email_verified";

    /// <summary>Whether the provider sent this very address as the user's with <c>email_verified</c> true: only then is it confirmed without a link.</summary>
    public static bool VouchesFor(ClaimsPrincipal principal, string email) =>
        string.Equals(principal.FindFirstValue(ClaimTypes.Email), email, StringComparison.OrdinalIgnoreCase)
        && bool.TryParse(principal.FindFirstValue(EmailVerifiedClaim), out var verified) && verified;
}
