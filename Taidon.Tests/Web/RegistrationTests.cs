using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Infrastructure.Identity;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>Registration with confirmed emails and no mail server: the confirmation page tells a stranger nothing about an address.</summary>
public sealed partial class RegistrationTests() : AppTests("registration", new Dictionary<string, string?> { ["Taidon:Accounts:RequireConfirmedEmail"] = "true" })
{
    [Fact]
    public async Task TheConfirmationPageSaysTheSameWhetherOrNotAnAccountHasTheAddress()
    {
        using (var scope = App.Services.CreateScope())
        {
            var now = DateTimeOffset.UtcNow;
            var users = scope.ServiceProvider.GetRequiredService<UserManager<TaidonUser>>();
            Assert.True((await users.CreateAsync(new TaidonUser { UserName = "victim@example.org", Email = "victim@example.org", CreatedAt = now, LastSeenAt = now }, "Victim-Passw0rd!")).Succeeded);
        }

        using var stranger = App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var existing = await stranger.GetAsync("/Account/RegisterConfirmation?email=victim%40example.org");
        using var missing = await stranger.GetAsync("/Account/RegisterConfirmation?email=nobody%40example.org");

        Assert.Equal(HttpStatusCode.OK, existing.StatusCode);
        Assert.Equal(HttpStatusCode.OK, missing.StatusCode);
        var page = Card(await existing.Content.ReadAsStringAsync());
        Assert.Equal(page, Card(await missing.Content.ReadAsStringAsync()));
        Assert.Contains("confirm-no-link", page, StringComparison.Ordinal);
        Assert.DoesNotContain("confirm-link", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyTheBrowserThatRegisteredSeesItsConfirmationLink()
    {
        using var browser = App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using var registered = await HtmlForms.SubmitAsync(browser, "/Account/Register", new Dictionary<string, string>
        {
            ["Input.Email"] = "new-student@example.org",
            ["Input.Password"] = "Str0ng-password",
            ["Input.ConfirmPassword"] = "Str0ng-password",
        });
        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        var confirmation = registered.Headers.Location!.ToString();
        Assert.DoesNotContain("new-student", confirmation, StringComparison.Ordinal);

        using var stranger = App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.DoesNotContain("confirm-link", Card(await stranger.GetStringAsync(confirmation)), StringComparison.Ordinal);
        Assert.DoesNotContain("confirm-link", Card(await stranger.GetStringAsync("/Account/RegisterConfirmation?email=new-student%40example.org")), StringComparison.Ordinal);

        var link = ConfirmLink().Match(await browser.GetStringAsync(confirmation));
        Assert.True(link.Success, "The browser that registered sees no confirmation link.");
        await browser.GetAsync(WebUtility.HtmlDecode(link.Groups[1].Value));
        using var scope = App.Services.CreateScope();
        Assert.True((await scope.ServiceProvider.GetRequiredService<UserManager<TaidonUser>>().FindByEmailAsync("new-student@example.org"))!.EmailConfirmed);
    }

    /// <summary>The page's own part (the layout around it carries the address in its language links).</summary>
    private static string Card(string html) => Regex.Match(html, "<section class=\"tdn-card\">[\\s\\S]*?</section>").Value;

    [GeneratedRegex("<a href=\"([^\"]+)\" data-testid=\"confirm-link\"")]
    private static partial Regex ConfirmLink();
}
