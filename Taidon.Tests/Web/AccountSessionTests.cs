using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Accounts;
using Taidon.Infrastructure.Identity;
using Taidon.Tests.Support;
using Taidon.Web.Components.Account;

namespace Taidon.Tests.Web;

/// <summary>What an account's sessions keep after an admin changes it: a demoted admin loses the Admin role within a minute everywhere.</summary>
public sealed class AccountSessionTests : IAsyncLifetime
{
    private const string Password = "Second-Admin-1!";
    private readonly ShiftedClock _clock = new();
    private TaidonAppFactory _factory = null!;
    private WebApplicationFactory<Program> _app = null!;

    public async Task InitializeAsync()
    {
        _factory = await TaidonAppFactory.CreateAsync("sessions");
        // The cookie's stamp check reads this clock: the test moves it past the check's interval.
        _app = _factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.PostConfigure<SecurityStampValidatorOptions>(options => options.TimeProvider = _clock)));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task ADemotedAdminIsRefusedAdminPagesTokensAndOpenCircuitsWithinAMinute()
    {
        var second = await CreateAdminAsync("second-admin@taidon.test");
        using var browser = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        await SignInAsync(browser, second.Email!);
        using var api = _app.CreateClient();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(second.Id));
        var circuit = await PrincipalAsync(second.Id);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin/audit.csv")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/admin/audit")).StatusCode);
        Assert.True(await RevalidateAsync(circuit));

        using (var scope = _app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<TaidonUser>>();
            var first = await users.FindByEmailAsync(TaidonAppFactory.AdminEmail);
            await scope.ServiceProvider.GetRequiredService<Taidon.Core.Accounts.IAccountAdministration>().SetAdminAsync(second.Id, false, first!.Id, CancellationToken.None);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await api.GetAsync("/api/v1/admin/audit")).StatusCode);
        Assert.False(await RevalidateAsync(circuit));
        Assert.True(IdentityRevalidatingAuthenticationStateProvider.Interval <= TimeSpan.FromSeconds(60));
        _clock.Shift = TimeSpan.FromSeconds(60);
        using var response = await browser.GetAsync("/admin/audit.csv");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/Account/Login", response.Headers.Location?.ToString(), StringComparison.Ordinal);
    }

    private async Task<TaidonUser> CreateAdminAsync(string email)
    {
        using var scope = _app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<TaidonUser>>();
        var user = new TaidonUser { UserName = email, Email = email, EmailConfirmed = true, CreatedAt = DateTimeOffset.UtcNow, LastSeenAt = DateTimeOffset.UtcNow };
        Assert.True((await users.CreateAsync(user, Password)).Succeeded);
        Assert.True((await users.AddToRoleAsync(user, TaidonRoles.Admin)).Succeeded);
        return user;
    }

    private async Task<string> TokenAsync(string accountId)
    {
        using var scope = _app.Services.CreateScope();
        return (await scope.ServiceProvider.GetRequiredService<IAccessTokenService>().CreateAsync(accountId, "session test", null, CancellationToken.None)).Token;
    }

    /// <summary>The principal a circuit of the account holds: what its sign-in put in the cookie.</summary>
    private async Task<System.Security.Claims.ClaimsPrincipal> PrincipalAsync(string accountId)
    {
        using var scope = _app.Services.CreateScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<TaidonUser>>().FindByIdAsync(accountId);
        return await scope.ServiceProvider.GetRequiredService<SignInManager<TaidonUser>>().CreateUserPrincipalAsync(user!);
    }

    private async Task<bool> RevalidateAsync(System.Security.Claims.ClaimsPrincipal principal)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var provider = (IdentityRevalidatingAuthenticationStateProvider)scope.ServiceProvider.GetRequiredService<AuthenticationStateProvider>();
        return await provider.IsStillValidAsync(principal);
    }

    private static async Task SignInAsync(HttpClient browser, string email)
    {
        using var response = await HtmlForms.SubmitAsync(browser, "/Account/Login", new Dictionary<string, string> { ["Input.Email"] = email, ["Input.Password"] = Password });
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"Signing in answered {(int)response.StatusCode}");
    }

    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}
