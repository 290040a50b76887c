using System.Globalization;
using Microsoft.AspNetCore.Localization;

namespace Taidon.Web.Features.Localization;

/// <summary>The languages of the app, and where the student's choice is kept (a cookie, read on every request and by the circuit).</summary>
public static class Languages
{
    public const string English = "en";
    public const string Russian = "ru";

    public static IReadOnlyList<string> Supported { get; } = [English, Russian];

    public static void AddTaidonLocalization(this IServiceCollection services)
    {
        services.AddLocalization();
        services.Configure<RequestLocalizationOptions>(options =>
        {
            var cultures = Supported.Select(CultureInfo.GetCultureInfo).ToList();
            options.DefaultRequestCulture = new RequestCulture(English);
            options.SupportedCultures = cultures;
            options.SupportedUICultures = cultures;
            options.FallBackToParentCultures = true;
            options.FallBackToParentUICultures = true;
        });
    }

    /// <summary><c>GET /language/{name}?returnUrl=/...</c>: remembers the language for a year and goes back to the page (a local one only).</summary>
    public static void MapLanguageSwitch(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/language/{name}", (string name, string? returnUrl, HttpContext context) =>
        {
            if (!Supported.Contains(name))
            {
                return Results.Problem($"There is no language '{name}'; choose one of: {string.Join(", ", Supported)}.", statusCode: StatusCodes.Status400BadRequest);
            }

            context.Response.Cookies.Append(
                CookieRequestCultureProvider.DefaultCookieName,
                CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(name)),
                new CookieOptions { MaxAge = TimeSpan.FromDays(365), IsEssential = true, SameSite = SameSiteMode.Lax, HttpOnly = false, Path = "/" });
            var local = returnUrl is { Length: > 0 } && returnUrl[0] == '/' && !returnUrl.StartsWith("//", StringComparison.Ordinal) && !returnUrl.StartsWith("/\\", StringComparison.Ordinal);
            return Results.LocalRedirect(local ? returnUrl! : "/");
        })
        .ExcludeFromDescription();
}
