using Bunit;
using Taidon.Web.Components.Pages;

namespace Taidon.Tests.Components;

public sealed class WorkspaceTests : ComponentTestContext
{
    [Fact]
    public void AGuestIsInvitedToRegisterToKeepTheirWork()
    {
        SignInAs("guest-0123", anonymous: true, "Student");

        var page = Render<Workspace>();

        var banner = page.Find("[data-testid=guest-banner]");
        Assert.Contains("register", banner.TextContent, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("/Account/Register", banner.QuerySelector("a")!.GetAttribute("href"));
    }

    [Fact]
    public void ARegisteredStudentSeesNoGuestBanner()
    {
        SignInAs("ana@example.org", anonymous: false, "Student");

        var page = Render<Workspace>();

        Assert.Empty(page.FindAll("[data-testid=guest-banner]"));
        Assert.Contains("init/", page.Find("[data-testid=workspace-empty]").TextContent, StringComparison.Ordinal);
    }
}
