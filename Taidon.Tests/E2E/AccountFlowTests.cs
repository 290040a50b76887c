using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Taidon.Infrastructure.Identity;
using Taidon.Tests.Support;

namespace Taidon.Tests.E2E;

[Collection(BrowserCollection.Name)]
public sealed class AccountFlowTests(BrowserFixture browser)
{
    [Fact]
    public async Task AVisitorSeesTheSampleCourseWithoutAnAccountAndTheFirstEditMakesOneThatIsKept()
    {
        var page = await browser.NewPageAsync();

        await page.GotoAsync("/");
        await BrowserFixture.WaitForAppAsync(page);
        await BrowserFixture.WaitForWorkspaceAsync(page);

        // Looking makes nothing: no account, no cookie, the sample course in the page.
        await Assertions.Expect(page.GetByTestId("project-name")).ToHaveTextAsync("Taidon Books");
        await Assertions.Expect(page.GetByTestId("guest-banner")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("nav-register")).ToBeVisibleAsync();
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == "taidon.session");

        // The first edit makes the guest account in place: the text typed is saved in it.
        await page.Locator(".monaco-editor textarea").FocusAsync();
        await page.Keyboard.PressAsync("Control+End");
        await page.Keyboard.InsertTextAsync("\n-- my first edit");
        await Assertions.Expect(page.GetByTestId("guest-banner")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("current-user")).ToHaveTextAsync("Guest");
        await Assertions.Expect(page.GetByTestId("save-state")).ToHaveTextAsync("Saved");
        await page.ReloadAsync();
        await BrowserFixture.WaitForWorkspaceAsync(page);
        await Assertions.Expect(page.Locator("[data-testid=sql-editor] .monaco-editor").First).ToContainTextAsync("my first edit");
        await Assertions.Expect(page.GetByTestId("project-menu")).ToBeVisibleAsync();
        var cookies = await page.Context.CookiesAsync();
        var session = Assert.Single(cookies, c => c.Name == "taidon.session");
        Assert.True(session.HttpOnly);
        Assert.True(session.Expires > DateTimeOffset.UtcNow.AddDays(7).ToUnixTimeSeconds(), "the guest's cookie must outlive the browser session");
    }

    [Fact]
    public async Task AVisitorRegistersSignsOutAndSignsInAgain()
    {
        var page = await browser.NewPageAsync();
        var email = $"student-{Guid.NewGuid():N}"[..20] + "@example.org";
        await BrowserFixture.BecomeGuestAsync(page);

        await BrowserFixture.FollowAsync(page, page.GetByTestId("nav-register"), "/Account/Register");
        await Assertions.Expect(page.GetByTestId("register-keeps-work")).ToBeVisibleAsync();
        await page.GetByTestId("register-email").FillAsync(email);
        await page.GetByTestId("register-password").FillAsync("Str0ng-password");
        await page.GetByTestId("register-confirm").FillAsync("Str0ng-password");
        await page.GetByTestId("register-submit").ClickAsync();

        await Assertions.Expect(page.GetByTestId("current-user")).ToHaveTextAsync(email);
        await Assertions.Expect(page.GetByTestId("workspace-title")).ToBeVisibleAsync();

        await BrowserFixture.WaitForAppAsync(page);
        await page.GetByTestId("nav-signout").ClickAsync();
        await page.WaitForURLAsync("**/Account/Login");
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync("Str0ng-password");
        await page.GetByTestId("login-submit").ClickAsync();

        await Assertions.Expect(page.GetByTestId("current-user")).ToHaveTextAsync(email);
    }

    [Fact]
    public async Task AWrongPasswordIsRefusedWithAMessage()
    {
        var page = await browser.NewPageAsync();
        await page.GotoAsync("/Account/Login");
        // Without Taidon:Oidc there is no "sign in with" button at all (the cookie and token schemes are not providers).
        await Assertions.Expect(page.Locator("[data-testid^=external-]")).ToHaveCountAsync(0);

        await page.GetByTestId("login-email").FillAsync(TaidonAppFactory.AdminEmail);
        await page.GetByTestId("login-password").FillAsync("not-the-password");
        await page.GetByTestId("login-submit").ClickAsync();

        await Assertions.Expect(page.GetByTestId("status-message")).ToContainTextAsync("email or password is wrong");
    }

    [Fact]
    public async Task TheAdminReachesTheAdminPagesThatAStudentIsRefused()
    {
        var admin = await browser.NewPageAsync();
        await SignInAsync(admin, TaidonAppFactory.AdminEmail, TaidonAppFactory.AdminPassword);
        await BrowserFixture.WaitForAppAsync(admin);

        // The workspace opens first; a link followed before its circuit took over can change the address without the page.
        await BrowserFixture.WaitForWorkspaceAsync(admin);
        await BrowserFixture.FollowAsync(admin, admin.GetByTestId("nav-admin"), "/admin");
        await Assertions.Expect(admin.GetByTestId("admin-title")).ToHaveTextAsync("Administration");
        await Assertions.Expect(admin.GetByTestId("registered-count")).ToBeVisibleAsync();
        var jobs = await admin.GotoAsync("/admin/jobs");
        Assert.Equal(200, jobs!.Status);
        await Assertions.Expect(admin.Locator("body")).ToContainTextAsync("Taidon jobs");

        var student = await browser.NewPageAsync();
        await BrowserFixture.BecomeGuestAsync(student);
        await Assertions.Expect(student.GetByTestId("nav-admin")).ToHaveCountAsync(0);
        await student.GotoAsync("/admin");
        await Assertions.Expect(student.GetByTestId("access-refused")).ToBeVisibleAsync();
        await Assertions.Expect(student.GetByTestId("admin-title")).ToHaveCountAsync(0);
        var refusedJobs = await student.GotoAsync("/admin/jobs");
        await Assertions.Expect(student.GetByTestId("access-refused")).ToBeVisibleAsync();
        Assert.DoesNotContain("Taidon jobs", await student.ContentAsync(), StringComparison.Ordinal);
        Assert.NotNull(refusedJobs);
    }

    [Fact]
    public async Task APersonalAccessTokenIsShownOnceAndWorksOnTheApi()
    {
        var page = await browser.NewPageAsync();
        await SignInAsync(page, TaidonAppFactory.AdminEmail, TaidonAppFactory.AdminPassword);
        await page.GotoAsync("/Account/Manage/AccessTokens");

        await page.GetByTestId("token-name").FillAsync("e2e script");
        await page.GetByTestId("token-create").ClickAsync();
        var token = await page.GetByTestId("new-token").TextContentAsync();

        var me = await page.APIRequest.GetAsync("/api/v1/me", new() { Headers = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" } });
        Assert.Equal(200, me.Status);
        Assert.Contains(TaidonAppFactory.AdminEmail, await me.TextAsync(), StringComparison.Ordinal);

        await page.ReloadAsync();
        Assert.DoesNotContain(token!, await page.ContentAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAccountWithAOneTimePasswordMustChooseANewOneFirst()
    {
        var email = $"teacher-{Guid.NewGuid():N}"[..20] + "@example.org";
        using (var scope = browser.App.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<TaidonUser>>();
            var created = await users.CreateAsync(new TaidonUser { UserName = email, Email = email, MustChangePassword = true }, "One-time-Passw0rd");
            Assert.True(created.Succeeded);
        }

        var page = await browser.NewPageAsync();
        await page.GotoAsync("/Account/Login");
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync("One-time-Passw0rd");
        await page.GetByTestId("login-submit").ClickAsync();

        await page.WaitForURLAsync("**/Account/Manage/ChangePassword");
        await Assertions.Expect(page.GetByTestId("status-message")).ToContainTextAsync("Choose a new password");
        // The workspace is not reachable until the password is replaced.
        await page.GotoAsync("/");
        await page.WaitForURLAsync("**/Account/Manage/ChangePassword");

        await page.GetByTestId("old-password").FillAsync("One-time-Passw0rd");
        await page.GetByTestId("new-password").FillAsync("My-own-Passw0rd");
        await page.GetByTestId("confirm-password").FillAsync("My-own-Passw0rd");
        await page.GetByTestId("change-password-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("status-message")).ToContainTextAsync("has been changed");

        await page.GotoAsync("/");
        await Assertions.Expect(page.GetByTestId("workspace-title")).ToBeVisibleAsync();
    }

    internal static async Task SignInAsync(IPage page, string email, string password)
    {
        await page.GotoAsync("/Account/Login");
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync(password);
        await page.GetByTestId("login-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("current-user")).ToHaveTextAsync(email);
    }
}
