using Microsoft.Playwright;
using Taidon.Tests.Support;

namespace Taidon.Tests.E2E;

/// <summary>
/// The app on a loopback port (Kestrel) and Debian's chromium driven by Playwright, shared by the
/// browser tests. Each test opens its own browser context, so cookies (and accounts) never leak between tests.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumVariable = "TAIDON_CHROMIUM";

    private IPlaywright? _playwright;

    public TaidonAppFactory App { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // The Git tests' server is on loopback (any port): only an allowed host is reached there.
        App = await TaidonAppFactory.CreateWithInstancesAsync("e2e", new Dictionary<string, string?> { ["Taidon:Git:AllowedHosts:0"] = "127.0.0.1" });
        BaseAddress = App.StartOnLoopback();
        Browser = await LaunchChromiumAsync();
    }

    public async Task<IBrowser> LaunchChromiumAsync()
    {
        var executable = Environment.GetEnvironmentVariable(ChromiumVariable) ?? "/usr/bin/chromium";
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"Browser tests need Chromium at {executable}. Install Debian's package (apt-get install chromium) or set {ChromiumVariable}; scripts/test.sh installs it when it can.");
        }

        _playwright ??= await Playwright.CreateAsync();
        return await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
            ],
        });
    }

    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseAddress.ToString() });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    /// <summary>Waits until Blazor has started on the page, so clicks reach the interactive components, not a prerendered copy.</summary>
    public static Task WaitForAppAsync(IPage page) =>
        page.Locator("html[data-taidon-ready=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    /// <summary>
    /// Waits until the workspace is interactive and its editor is up with its key bindings: a key pressed
    /// before that (Ctrl+Enter) would not be heard.
    /// </summary>
    public static async Task WaitForWorkspaceAsync(IPage page, float? timeout = null)
    {
        await page.Locator("[data-testid=workspace][data-interactive=true]").WaitForAsync(new() { Timeout = timeout });
        await page.Locator("[data-testid=sql-editor][data-editor-ready=true]").WaitForAsync(new() { Timeout = timeout });
    }

    /// <summary>
    /// Makes the page's visitor a guest as a visitor does: opens the workspace and types in the editor (a
    /// page view alone makes no account). Waits until the page shows the guest account.
    /// </summary>
    public static async Task BecomeGuestAsync(IPage page)
    {
        await page.GotoAsync("/");
        await WaitForAppAsync(page);
        await WaitForWorkspaceAsync(page);
        await page.Locator(".monaco-editor textarea").FocusAsync();
        await page.Keyboard.PressAsync("Control+End");
        await page.Keyboard.InsertTextAsync("\n");
        await Assertions.Expect(page.GetByTestId("guest-banner")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("current-user")).ToHaveTextAsync("Guest");
    }

    /// <summary>
    /// Follows a link and waits for the page at <paramref name="path"/>. While the interactive circuit
    /// takes over a server-rendered page, a click can fall between the two: it is tried again then.
    /// </summary>
    public static async Task FollowAsync(IPage page, ILocator link, string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            await link.ClickAsync();
            try
            {
                await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == path, new() { Timeout = 3000 });
                return;
            }
            catch (TimeoutException) when (attempt < 3)
            {
            }
        }
    }

    /// <summary>With TAIDON_SCREENSHOTS set to a folder (such as docs/), saves the page there at a desktop size; otherwise does nothing.</summary>
    public static async Task ScreenshotForDocsAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("TAIDON_SCREENSHOTS") is { Length: > 0 } folder)
        {
            await page.SetViewportSizeAsync(1600, 1000);
            await Task.Delay(500);
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name) });
        }
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await App.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
