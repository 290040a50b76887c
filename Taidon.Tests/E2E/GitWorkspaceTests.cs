using Microsoft.Playwright;
using Taidon.Tests.Support;

namespace Taidon.Tests.E2E;

/// <summary>A project from Git in the browser: imported from the local Git server, edited, committed and pushed.</summary>
[Collection(BrowserCollection.Name)]
public sealed class GitWorkspaceTests(BrowserFixture browser) : IAsyncLifetime
{
    private GitHttpServer _server = null!;

    public async Task InitializeAsync() => _server = await GitHttpServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>A MudBlazor text field's input, wherever the test id landed (on the input or its wrapper).</summary>
    private static ILocator Input(IPage page, string testId) => page.Locator($"[data-testid={testId}] input, input[data-testid={testId}]");

    [Fact]
    public async Task AStudentImportsACourseEditsItCommitsAndPushesToTheServer()
    {
        await _server.CreateRepositoryAsync("sql-course", new Dictionary<string, string>
        {
            ["init/01_schema.sql"] = "CREATE TABLE pupils (id int, name text);\n",
            ["test/01_first.sql"] = "SELECT count(*) FROM pupils;\n",
        });
        var page = await browser.NewPageAsync();
        await AccountFlowTests.SignInAsync(page, TaidonAppFactory.AdminEmail, TaidonAppFactory.AdminPassword);
        await BrowserFixture.WaitForWorkspaceAsync(page);

        // The token first (the server wants it), then the import from the project menu.
        await page.GetByTestId("git-token-open").ClickAsync();
        await Input(page, "git-token-host").FillAsync(_server.TokenHost);
        await Input(page, "git-token-user").FillAsync(GitHttpServer.User);
        await Input(page, "git-token").FillAsync(GitHttpServer.Password);
        await page.GetByTestId("git-token-save").ClickAsync();
        await Assertions.Expect(page.GetByTestId("git-done")).ToContainTextAsync("saved");

        await page.GetByTestId("project-name").ClickAsync();
        await page.GetByText("Import from Git…").ClickAsync();
        await Input(page, "project-import-url").FillAsync(_server.Url("sql-course"));
        await page.GetByTestId("project-form-ok").ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("project=", StringComparison.Ordinal), new() { Timeout = 30_000 });
        await BrowserFixture.WaitForWorkspaceAsync(page);
        await Assertions.Expect(page.GetByTestId("project-name")).ToHaveTextAsync("sql-course");
        await Assertions.Expect(page.GetByTestId("current-script")).ToHaveTextAsync("test/01_first.sql");

        await page.Locator(".monaco-editor textarea").FocusAsync();
        await page.Keyboard.PressAsync("Control+End");
        await page.Keyboard.TypeAsync("SELECT name FROM pupils;");
        await Assertions.Expect(page.GetByTestId("save-state")).ToHaveTextAsync("Saved");
        await Assertions.Expect(page.Locator("[data-testid=git-change][data-path='test/01_first.sql']")).ToBeVisibleAsync();

        await Input(page, "git-message").FillAsync("List the pupils");
        await page.GetByTestId("git-commit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("git-done")).ToContainTextAsync("Committed");
        await page.GetByTestId("git-push").ClickAsync();
        await Assertions.Expect(page.GetByTestId("git-done")).ToContainTextAsync("Pushed", new() { Timeout = 30_000 });

        Assert.Equal("List the pupils", (await _server.LogAsync("sql-course"))[0]);
        Assert.Contains("SELECT name FROM pupils;", await _server.ShowAsync("sql-course", "test/01_first.sql"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACourseLinkOpensTheTeachersCourseAsANewStudentsOwnProject()
    {
        await _server.CreateRepositoryAsync("open-course", new Dictionary<string, string>
        {
            ["init/01_schema.sql"] = "CREATE TABLE birds (id int, name text);\n",
            ["test/01_birds.sql"] = "SELECT count(*) FROM birds;\n",
        });
        var page = await browser.NewPageAsync();

        await page.GotoAsync("/?git=" + Uri.EscapeDataString(_server.PublicUrl("open-course")));
        await BrowserFixture.WaitForWorkspaceAsync(page, 30_000);

        await Assertions.Expect(page.GetByTestId("project-name")).ToHaveTextAsync("open-course");
        await Assertions.Expect(page.GetByTestId("current-script")).ToHaveTextAsync("test/01_birds.sql");

        // The button, not Ctrl+Enter: the editor's key bindings may not be in place the moment the page is.
        await page.GetByTestId("run-script").ClickAsync();
        await Assertions.Expect(page.GetByTestId("plan-chip")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await page.GetByRole(AriaRole.Tab, new() { Name = "Result 1" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("result-cell").First).ToHaveTextAsync("0");
    }
}
