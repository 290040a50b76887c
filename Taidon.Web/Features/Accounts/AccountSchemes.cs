using Microsoft.AspNetCore.Identity;

namespace Taidon.Web.Features.Accounts;

/// <summary>
/// Pages authenticate with the Identity cookie; the API with <c>Authorization: Bearer &lt;token&gt;</c>.
/// The default scheme picks one per request, so the rate limiter and the pages see the same user.
/// </summary>
public static class AccountSchemes
{
    public const string Selector = "Taidon";
    public const string Bearer = "Bearer";

    public static string Select(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/api")
        || context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? Bearer
            : IdentityConstants.ApplicationScheme;
}
