using Taidon.Core.Accounts;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Taidon.Web.Features.Accounts;

/// <summary>The sign-in cookie lives <c>Taidon:Accounts:CookieDays</c> (sliding), so anonymous visitors keep their account.</summary>
public sealed class CookieAuthenticationOptionsSetup(IOptions<AccountOptions> accounts) : IConfigureNamedOptions<CookieAuthenticationOptions>
{
    public void Configure(string? name, CookieAuthenticationOptions options)
    {
        if (name == IdentityConstants.ApplicationScheme)
        {
            options.ExpireTimeSpan = TimeSpan.FromDays(accounts.Value.CookieDays);
        }
    }

    public void Configure(CookieAuthenticationOptions options) => Configure(Options.DefaultName, options);
}
