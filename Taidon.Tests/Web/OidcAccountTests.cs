using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Infrastructure.Identity;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>
/// Accounts made by a first sign-in with an OpenID Connect provider (a real OpenIddict one), at the HTTP
/// level: an email counts as confirmed only when the provider verified that very address.
/// </summary>
public sealed class OidcAccountTests : IAsyncLifetime
{
    private OidcTestProvider _provider = null!;
    private TaidonAppFactory _app = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        _provider = await OidcTestProvider.StartAsync();
        _app = await TaidonAppFactory.CreateAsync("oidc-accounts", new Dictionary<string, string?>
        {
            ["Taidon:Oidc:Authority"] = _provider.Authority.ToString(),
            ["Taidon:Oidc:ClientId"] = OidcTestProvider.ClientId,
            ["Taidon:Oidc:ClientSecret"] = OidcTestProvider.ClientSecret,
            ["Taidon:Oidc:RequireHttpsMetadata"] = "false",
            ["Taidon:Accounts:RequireConfirmedEmail"] = "true",
        });
        _base = _app.StartOnLoopback();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _provider.DisposeAsync();
    }

    [Fact]
    public async Task AnAddressTheProviderVerifiedIsConfirmedAndSignsIn()
    {
        (_provider.UserEmail, _provider.UserSubject, _provider.EmailVerified) = ("verified@idp.test", "verified", true);
        using var browser = new PlainBrowser();

        await SignInWithProviderAsync(browser);

        Assert.True((await AccountAsync("verified@idp.test")).EmailConfirmed);
        Assert.Equal("/", browser.Location.AbsolutePath);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(null)]
    public async Task AnAddressTheProviderDidNotVerifyWaitsForItsConfirmationLink(bool? verified)
    {
        (_provider.UserEmail, _provider.UserSubject, _provider.EmailVerified) = ("unverified@idp.test", "unverified", verified);
        using var browser = new PlainBrowser();

        var page = await SignInWithProviderAsync(browser);

        Assert.False((await AccountAsync("unverified@idp.test")).EmailConfirmed);
        Assert.Equal("/Account/RegisterConfirmation", browser.Location.AbsolutePath);
        Assert.Contains("data-testid=\"confirm-link\"", page, StringComparison.Ordinal);

        // Until it is confirmed, signing in with the provider again is refused, saying why.
        using var again = new PlainBrowser();
        await SignInWithProviderAsync(again);
        Assert.Equal("/Account/Login", again.Location.AbsolutePath);
    }

    [Fact]
    public async Task AnAddressTheUserTypedIsNotConfirmedEvenWhenTheProviderVerifiedItsOwn()
    {
        using (var scope = _app.Services.CreateScope())
        {
            var now = DateTimeOffset.UtcNow;
            var taken = new TaidonUser { UserName = "taken@idp.test", Email = "taken@idp.test", EmailConfirmed = true, CreatedAt = now, LastSeenAt = now };
            Assert.True((await scope.ServiceProvider.GetRequiredService<UserManager<TaidonUser>>().CreateAsync(taken)).Succeeded);
        }

        (_provider.UserEmail, _provider.UserSubject, _provider.EmailVerified) = ("taken@idp.test", "typed", true);
        using var browser = new PlainBrowser();
        var form = await SignInWithProviderAsync(browser);
        Assert.Equal("/Account/ExternalLogin", browser.Location.AbsolutePath);

        await browser.PostFormAsync(browser.Location, HtmlForms.With(form, new Dictionary<string, string> { ["Input.Email"] = "typed@example.org" }));

        Assert.False((await AccountAsync("typed@example.org")).EmailConfirmed);
        Assert.Equal("/Account/RegisterConfirmation", browser.Location.AbsolutePath);
    }

    private async Task<string> SignInWithProviderAsync(PlainBrowser browser)
    {
        var login = await browser.GetAsync(new Uri(_base, "/Account/Login"));
        return await browser.PostFormAsync(new Uri(_base, "/Account/PerformExternalLogin"), HtmlForms.With(login, new Dictionary<string, string> { ["provider"] = "oidc", ["ReturnUrl"] = "/" }));
    }

    private async Task<TaidonUser> AccountAsync(string email)
    {
        using var scope = _app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<TaidonUser>>().FindByEmailAsync(email)
            ?? throw new InvalidOperationException($"No account has {email}.");
    }
}
