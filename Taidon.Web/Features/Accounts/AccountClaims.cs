using System.Security.Claims;

namespace Taidon.Web.Features.Accounts;

public static class AccountClaims
{
    /// <summary>The account id of an authenticated caller (every endpoint that calls this requires authentication).</summary>
    public static string AccountId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("An authenticated request has no account id.");
}
