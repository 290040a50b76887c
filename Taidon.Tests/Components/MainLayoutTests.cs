using Bunit;
using Microsoft.AspNetCore.Components;
using Taidon.Web.Components.Layout;

namespace Taidon.Tests.Components;

public sealed class MainLayoutTests : ComponentTestContext
{
    [Fact]
    public void AGuestSeesRegisterAndSignInButNoAdminLink()
    {
        SignInAs("guest-1", anonymous: true, "Student");

        var layout = RenderLayout();

        Assert.Equal("Guest", layout.Find("[data-testid=current-user]").TextContent);
        Assert.NotEmpty(layout.FindAll("[data-testid=nav-register]"));
        Assert.Empty(layout.FindAll("[data-testid=nav-admin]"));
    }

    [Fact]
    public void AnAdminSeesTheAdminLinkAndSignOut()
    {
        SignInAs("admin@taidon.test", anonymous: false, "Admin", "Student");

        var layout = RenderLayout();

        Assert.Equal("/admin", layout.Find("[data-testid=nav-admin]").GetAttribute("href"));
        Assert.NotEmpty(layout.FindAll("[data-testid=nav-signout]"));
        Assert.Empty(layout.FindAll("[data-testid=nav-register]"));
    }

    private IRenderedComponent<MainLayout> RenderLayout() =>
        Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "page"))));
}
