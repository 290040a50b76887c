using Taidon.Infrastructure.Identity;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.JSInterop;
using Taidon.Core.Accounts;

namespace Taidon.Web.Features.Accounts;

/// <summary>
/// A visitor gets a guest account when they first need one (an edit, a run), not when a page is viewed:
/// the workspace's circuit asks the browser to <c>POST /account/guest</c>, which makes the account and
/// signs the browser in with a persistent cookie (or names the account it is signed in with already),
/// and answers with a pass: the account's id protected by Data Protection for a minute. The circuit
/// reads the account from the pass, so it never takes an id on the browser's word, and the circuit's
/// user becomes that account without a reload (what is typed stays where it is).
/// </summary>
public sealed class GuestSignIn(
    IJSRuntime js,
    IDataProtectionProvider protection,
    AuthenticationStateProvider authentication,
    UserManager<TaidonUser> users,
    IUserClaimsPrincipalFactory<TaidonUser> principals)
{
    public const string Path = "/account/guest";

    /// <summary>The header a same-origin script sets; a form on another site cannot (no CORS is allowed).</summary>
    public const string Header = "X-Taidon-Guest";

    private static readonly TimeSpan PassLifetime = TimeSpan.FromMinutes(1);

    public sealed record GuestPass(string Pass);

    public sealed record BrowserAnswer(string? Pass, string? Problem);

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost(Path, SignInBrowserAsync).AllowAnonymous().ExcludeFromDescription();

    /// <summary>The account of this circuit's browser, made now when it has none. Throws <see cref="GuestRefusedException"/> with what to do when that is refused.</summary>
    public async Task<string> SignInCircuitAsync()
    {
        BrowserAnswer answer;
        try
        {
            answer = await js.InvokeAsync<BrowserAnswer>("taidon.guestAccount", Path, Header);
        }
        catch (JSException e)
        {
            throw new GuestRefusedException($"Your browser could not reach the server to make your guest account ({e.Message}); check the connection and try again.");
        }

        var accountId = answer.Pass is { } pass ? Read(protection, pass) : null;
        if (accountId is null || await users.FindByIdAsync(accountId) is not { } user)
        {
            throw new GuestRefusedException(answer.Problem ?? "Your guest account could not be made; reload the page and try again.");
        }

        // The page's user is the account from now on (the banner, the menu), as after a reload with the cookie.
        var principal = await principals.CreateAsync(user);
        if (authentication is IHostEnvironmentAuthenticationStateProvider host)
        {
            host.SetAuthenticationState(Task.FromResult(new AuthenticationState(principal)));
        }

        return accountId;
    }

    private static async Task<Results<Ok<GuestPass>, ProblemHttpResult>> SignInBrowserAsync(
        HttpContext context, IGuestAccounts guests, SignInManager<TaidonUser> signIn, IDataProtectionProvider protection, IAccountActivity activity)
    {
        if (context.Request.Headers[Header] != "1")
        {
            return TypedResults.Problem($"This address is for the workspace's own script, which sends the header {Header}: 1.", statusCode: 400, title: "Not a guest sign-in");
        }

        string accountId;
        if (context.User.Identity?.IsAuthenticated == true && context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } signedIn)
        {
            // Another tab made the account already, or the visitor signed in meanwhile: that account it is.
            accountId = signedIn;
            await activity.TouchAsync(accountId, context.RequestAborted);
        }
        else
        {
            accountId = await guests.CreateAsync(context.RequestAborted);
            var user = await signIn.UserManager.FindByIdAsync(accountId) ?? throw new InvalidOperationException($"The guest account {accountId} was made but cannot be read back.");
            await signIn.SignInAsync(user, isPersistent: true);
        }

        return TypedResults.Ok(new GuestPass(Protector(protection).Protect(accountId, PassLifetime)));
    }

    private static ITimeLimitedDataProtector Protector(IDataProtectionProvider protection) =>
        protection.CreateProtector("Taidon.GuestSignIn").ToTimeLimitedDataProtector();

    private static string? Read(IDataProtectionProvider protection, string pass)
    {
        try
        {
            return Protector(protection).Unprotect(pass, out _);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}

/// <summary>A guest account could not be made for the visitor (too many from their address, no connection); the message says what to do.</summary>
public sealed class GuestRefusedException(string message) : Exception(message);
