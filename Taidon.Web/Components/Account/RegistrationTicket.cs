using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Taidon.Web.Components.Account;

/// <summary>
/// What tells the confirmation page which account the browser in front of it has just registered: a
/// cookie with the account's id, protected by Data Protection and valid for <see cref="Lifetime"/>. The
/// page shows a confirmation link (no mail server) only with it, so typing someone's address shows nothing.
/// </summary>
internal sealed class RegistrationTicket(IDataProtectionProvider protection)
{
    public const string CookieName = "taidon.registered";
    public const string PagePath = "/Account/RegisterConfirmation";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    private ITimeLimitedDataProtector Protector => protection.CreateProtector("Taidon.RegistrationTicket").ToTimeLimitedDataProtector();

    public void Issue(HttpContext context, string accountId) =>
        context.Response.Cookies.Append(CookieName, Protector.Protect(accountId, Lifetime), new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            IsEssential = true,
            Path = context.Request.PathBase + PagePath,
            MaxAge = Lifetime,
        });

    /// <summary>The account this browser registered in the last <see cref="Lifetime"/>, or null.</summary>
    public string? Read(HttpContext context)
    {
        if (context.Request.Cookies[CookieName] is not { Length: > 0 } ticket)
        {
            return null;
        }

        try
        {
            return Protector.Unprotect(ticket, out _);
        }
        catch (CryptographicException)
        {
            // Expired, altered, or from another installation's keys.
            return null;
        }
    }
}
