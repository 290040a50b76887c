using System.Security.Claims;
using Taidon.Core.Accounts;

namespace Taidon.Web.Features.Accounts;

/// <summary>
/// A signed-in visitor's page views are recorded as seen, and an account that must replace its one-time
/// password is sent to do that first. A page view without an account makes none: a visitor gets a
/// guest account when they first edit or run (<see cref="GuestSignIn"/>), so crawlers and link previews
/// cost nothing.
/// </summary>
public sealed class AccountActivityMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, IAccountActivity activity)
    {
        if (VisitorPages.IsPageView(context) && context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } accountId)
        {
            await activity.TouchAsync(accountId, context.RequestAborted);
            if (context.User.HasClaim(TaidonClaims.MustChangePassword, "true"))
            {
                context.Response.Redirect("/Account/Manage/ChangePassword");
                return;
            }
        }

        await next(context);
    }
}
