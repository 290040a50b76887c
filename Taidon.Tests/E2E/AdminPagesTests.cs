using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Taidon.Core.Quotas;
using Taidon.Tests.Support;

namespace Taidon.Tests.E2E;

/// <summary>An admin runs the class from the pages: a quota a new guest feels at once, a layer evicted, both in the audit log.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AdminPagesTests(BrowserFixture browser)
{
    [Fact]
    public async Task TheAdminLowersTheGuestsLimitsEvictsALayerAndSeesBothInTheAuditLog()
    {
        var quotas = browser.App.Services.GetRequiredService<QuotaService>();
        var before = (await quotas.PlansAsync(CancellationToken.None)).Single(p => p.Name == QuotaPlans.Anonymous).Limits;
        try
        {
            var admin = await browser.NewPageAsync();
            await AccountFlowTests.SignInAsync(admin, TaidonAppFactory.AdminEmail, TaidonAppFactory.AdminPassword);
            await OpenAsync(admin, "/admin/quotas");
            var plan = admin.Locator("[data-testid=plan][data-plan=anonymous]");
            await plan.Locator("[data-testid=limit-instances] input, input[data-testid=limit-instances]").FillAsync("1");
            await plan.Locator("[data-testid=limit-statement-timeout] input, input[data-testid=limit-statement-timeout]").FillAsync("2");
            await plan.Locator("[data-testid=limit-statement-timeout] input, input[data-testid=limit-statement-timeout]").PressAsync("Tab");
            await plan.GetByTestId("plan-save").ClickAsync();
            await Assertions.Expect(admin.Locator(".mud-snackbar")).ToContainTextAsync("new runs use it now");

            // A new guest's long query stops at the new timeout.
            var guest = await browser.NewPageAsync();
            await guest.GotoAsync("/?script=test/01_explore.sql");
            await BrowserFixture.WaitForWorkspaceAsync(guest);
            await guest.Locator(".monaco-editor textarea").FocusAsync();
            await guest.Keyboard.PressAsync("Control+A");
            await guest.Keyboard.TypeAsync("SELECT pg_sleep(6);");
            await Assertions.Expect(guest.GetByTestId("save-state")).ToHaveTextAsync("Saved");
            await guest.Keyboard.PressAsync("Control+Enter");
            await Assertions.Expect(guest.GetByTestId("message-error")).ToContainTextAsync("57014", new() { Timeout = 60_000 });

            // The guest's instance is listed with its owner and what it takes on disk.
            await OpenAsync(admin, "/admin/instances");
            await Assertions.Expect(admin.GetByTestId("instance-row").First).ToBeVisibleAsync();
            await Assertions.Expect(admin.Locator("[data-testid=instance-disk]", new() { HasTextString = "MiB" }).First).ToBeVisibleAsync();

            // The cache shrinks by the layer evicted.
            await OpenAsync(admin, "/admin/cache");
            var count = int.Parse(await admin.GetByTestId("cache-count").TextContentAsync() ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(count >= 2, $"The cache holds {count} layers; the guest's run should have left one besides the base state.");
            await admin.Locator("[data-testid=layer-evict]:not([disabled])").First.ClickAsync();
            await Assertions.Expect(admin.GetByTestId("cache-count")).ToHaveTextAsync((count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));

            await OpenAsync(admin, "/admin/users");
            await Assertions.Expect(admin.Locator("[data-testid=user-row]", new() { HasTextString = TaidonAppFactory.AdminEmail })).ToBeVisibleAsync();

            await OpenAsync(admin, "/admin/audit");
            await Assertions.Expect(admin.Locator("[data-testid=audit-row][data-action='quota.plan-change']").First).ToContainTextAsync("plan:anonymous");
            await Assertions.Expect(admin.Locator("[data-testid=audit-row][data-action='cache.evict']").First).ToContainTextAsync("freed");
        }
        finally
        {
            using var scope = browser.App.Services.CreateScope();
            var adminId = (await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Taidon.Infrastructure.Identity.TaidonUser>>()
                .FindByEmailAsync(TaidonAppFactory.AdminEmail))!.Id;
            await quotas.SavePlanAsync(QuotaPlans.Anonymous, before, adminId, CancellationToken.None);
        }
    }

    private static async Task OpenAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await page.Locator("[data-testid=admin-page][data-interactive=true]").WaitForAsync();
    }
}
