using Taidon.Infrastructure.Identity;
using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;

namespace Taidon.Web.Components.Account;

internal static class EmailConfirmation
{
    /// <summary>The link that confirms the account's email: sent to it, or shown to the browser that registered when no mail server is configured.</summary>
    public static async Task<string> LinkAsync(UserManager<TaidonUser> users, NavigationManager navigation, TaidonUser user, string? returnUrl)
    {
        var code = WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(await users.GenerateEmailConfirmationTokenAsync(user)));
        return navigation.GetUriWithQueryParameters(
            navigation.ToAbsoluteUri("Account/ConfirmEmail").AbsoluteUri,
            new Dictionary<string, object?> { ["userId"] = user.Id, ["code"] = code, ["returnUrl"] = returnUrl });
    }
}
