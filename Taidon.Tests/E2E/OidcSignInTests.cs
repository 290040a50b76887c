using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.E2E;

/// <summary>Sign-in through a real OpenID Connect provider (OpenIddict) started by the test.</summary>
[Collection(BrowserCollection.Name)]
public sealed class OidcSignInTests(BrowserFixture browser) : IAsyncLifetime
{
    private OidcTestProvider _provider = null!;
    private TaidonAppFactory _app = null!;
    private Uri _baseAddress = null!;

    public async Task InitializeAsync()
    {
        _provider = await OidcTestProvider.StartAsync();
        _app = await TaidonAppFactory.CreateAsync("oidc", new Dictionary<string, string?>
        {
            ["Taidon:Oidc:Authority"] = _provider.Authority.ToString(),
            ["Taidon:Oidc:ClientId"] = OidcTestProvider.ClientId,
            ["Taidon:Oidc:ClientSecret"] = OidcTestProvider.ClientSecret,
            ["Taidon:Oidc:DisplayName"] = "Test IdP",
            ["Taidon:Oidc:RequireHttpsMetadata"] = "false",
        });
        _baseAddress = _app.StartOnLoopback();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _provider.DisposeAsync();
    }

    [Fact]
    public async Task AGuestSignsInWithTheProviderAndKeepsTheGuestAccount()
    {
        var context = await browser.Browser.NewContextAsync(new() { BaseURL = _baseAddress.ToString() });
        var page = await context.NewPageAsync();
        await BrowserFixture.BecomeGuestAsync(page);
        var guestId = await SingleAnonymousAccountIdAsync();

        await page.GotoAsync("/Account/Login");
        await Assertions.Expect(page.Locator("[data-testid^=external-]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("external-oidc")).ToHaveTextAsync("Sign in with Test IdP");
        await page.GetByTestId("external-oidc").ClickAsync();

        await Assertions.Expect(page.GetByTestId("current-user")).ToHaveTextAsync(_provider.UserEmail);
        await using var db = await Db();
        var account = await db.Users.SingleAsync(u => u.Email == _provider.UserEmail);
        Assert.Equal(guestId, account.Id);
        Assert.False(account.IsAnonymous);
        Assert.True(await db.UserLogins.AnyAsync(l => l.UserId == account.Id && l.LoginProvider == "oidc" && l.ProviderKey == _provider.UserSubject));

        // Signing in again in a fresh browser finds the same account through the provider's subject.
        var again = await (await browser.Browser.NewContextAsync(new() { BaseURL = _baseAddress.ToString() })).NewPageAsync();
        await again.GotoAsync("/Account/Login");
        await again.GetByTestId("external-oidc").ClickAsync();
        await Assertions.Expect(again.GetByTestId("current-user")).ToHaveTextAsync(_provider.UserEmail);
        Assert.Equal(1, await db.Users.CountAsync(u => u.Email == _provider.UserEmail));
    }

    private async Task<string> SingleAnonymousAccountIdAsync()
    {
        await using var db = await Db();
        return await db.Users.Where(u => u.IsAnonymous).Select(u => u.Id).SingleAsync();
    }

    private Task<ControlPlaneDbContext> Db() =>
        _app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
}
