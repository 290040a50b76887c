using Taidon.Infrastructure.Identity;
using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Taidon.Core.Accounts;

namespace Taidon.Web.Features.Accounts;

/// <summary>
/// A visitor who opens a page without being signed in gets an anonymous account at once (a persistent
/// cookie), with no form in the way. Signed-in visitors are recorded as seen, and an account that must
/// replace its one-time password is sent to do that first.
/// </summary>
public sealed class AnonymousVisitorMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(
        HttpContext context,
        IGuestAccounts guests,
        SignInManager<TaidonUser> signIn,
        IAccountActivity activity)
    {
        if (!VisitorPages.IsPageView(context))
        {
            await next(context);
            return;
        }

        if (context.User.Identity?.IsAuthenticated != true)
        {
            var id = await guests.CreateAsync(context.RequestAborted);
            var user = await signIn.UserManager.FindByIdAsync(id) ?? throw new InvalidOperationException($"The guest account {id} was made but cannot be read back.");
            await signIn.SignInAsync(user, isPersistent: true);
            // The page being rendered now already belongs to the new account.
            context.User = await signIn.CreateUserPrincipalAsync(user);
        }
        else if (context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } accountId)
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
