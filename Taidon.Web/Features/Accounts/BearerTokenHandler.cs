using Taidon.Infrastructure.Identity;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Taidon.Core.Accounts;

namespace Taidon.Web.Features.Accounts;

/// <summary>Authenticates API requests by personal or anonymous access token; refusals are RFC 7807 problem details.</summary>
public sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IAccessTokenService tokens,
    UserManager<TaidonUser> users,
    SignInManager<TaidonUser> signIn,
    IAccountActivity activity,
    AccountPrincipals principals,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string FailureKey = "taidon.bearer.failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Fail("The Authorization header must be 'Bearer <token>'.");
        }

        var token = header["Bearer ".Length..].Trim();
        var owner = await tokens.AuthenticateAsync(token, Context.RequestAborted);
        if (owner is null)
        {
            return Fail("The access token is unknown, revoked or expired. Create a new one on your account page, or POST /api/v1/anonymous for an anonymous one.");
        }

        var claims = await principals.GetAsync(owner.AccountId, async () =>
        {
            var user = await users.FindByIdAsync(owner.AccountId);
            return user is null || await users.IsLockedOutAsync(user) ? null : [.. (await signIn.CreateUserPrincipalAsync(user)).Claims];
        });
        if (claims is null)
        {
            return Fail("The account of this access token is locked or no longer exists.");
        }

        await activity.TouchAsync(owner.AccountId, Context.RequestAborted);
        var identity = new ClaimsIdentity(claims, Scheme.Name);
        identity.AddClaim(new Claim(TaidonClaims.AccessTokenId, owner.TokenId.ToString()));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var detail = Context.Items[FailureKey] as string
            ?? "This API needs 'Authorization: Bearer <token>': a personal access token from your account page, or an anonymous one from POST /api/v1/anonymous.";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = 401, Title = "Authentication required", Detail = detail },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = 403, Title = "Forbidden", Detail = "Your account may not use this endpoint." },
        });
    }

    private AuthenticateResult Fail(string reason)
    {
        Context.Items[FailureKey] = reason;
        return AuthenticateResult.Fail(reason);
    }
}
