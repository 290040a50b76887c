using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Playwright;
using Taidon.Tests.Support;

namespace Taidon.Benchmarks.ClassLoad;

/// <summary>
/// What a teacher and an admin do before a class (<c>--lesson</c>): the course is on a Git server the
/// app may reach, the admin signs in (a browser, as an admin would), makes an access token and plans the
/// lesson through <c>POST /api/v1/admin/lessons</c>; the class arrives once the instances wait.
/// </summary>
internal sealed class PlannedLesson : IAsyncDisposable
{
    private const string AdminEmail = "admin@taidon.local";

    private readonly GitHttpServer _git;

    private PlannedLesson(GitHttpServer git, string adminPassword)
    {
        _git = git;
        AdminPassword = adminPassword;
    }

    public string AdminPassword { get; }

    public string CourseUrl => _git.PublicUrl("course");

    /// <summary>The workspace's address that opens the course: what the teacher gives the class (a guest gets it as a project of their own).</summary>
    public string CourseLink => "/?git=" + Uri.EscapeDataString(CourseUrl);

    /// <summary>The settings the app needs for it (under Taidon:): the Git server's host allowed (it is on loopback), the admin's password.</summary>
    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Git:AllowedHosts:0"] = _git.Host,
        ["Accounts:AdminEmail"] = AdminEmail,
        ["Accounts:AdminPassword"] = AdminPassword,
    };

    /// <summary>The course (the workload's init and its exercise as a student finds it) in a repository on a real Git server.</summary>
    public static async Task<PlannedLesson> PrepareAsync()
    {
        var git = await GitHttpServer.StartAsync();
        await git.CreateRepositoryAsync("course", new Dictionary<string, string>
        {
            [ClassWorkload.InitPath] = ClassWorkload.Init,
            [ClassWorkload.ExercisePath] = ClassWorkload.Exercise(0),
        });
        return new PlannedLesson(git, "Lesson-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
    }

    /// <summary>Plans the lesson to start now and waits until an instance per student waits in the exercise's starting state.</summary>
    public async Task PlanAsync(AppUnderLoad app, ClassWorkload workload)
    {
        using var admin = new HttpClient { BaseAddress = app.Address, Timeout = TimeSpan.FromMinutes(10) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await AdminTokenAsync(app));
        var started = DateTime.UtcNow;
        using var planned = await admin.PostAsJsonAsync("/api/v1/admin/lessons", new
        {
            course = CourseUrl,
            startsAt = DateTimeOffset.UtcNow.AddMinutes(1),
            minutes = (int)Math.Ceiling(workload.Duration.TotalMinutes) + 10,
            // The browser students are of the class too: they open the course link (ClassCircuits).
            students = workload.Students + workload.Browsers,
        });
        var answer = await planned.Content.ReadAsStringAsync();
        if (!planned.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The lesson was refused ({(int)planned.StatusCode}): {answer}");
        }

        Console.WriteLine($"Lesson planned: {answer}");
        var waiting = 0;
        while (DateTime.UtcNow - started < TimeSpan.FromMinutes(15))
        {
            var pooled = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/instances?state=Pooled");
            waiting = (pooled.ValueKind == JsonValueKind.Array ? pooled : pooled.GetProperty("items")).GetArrayLength();
            if (waiting >= workload.Students + workload.Browsers)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(5));
        }

        Console.WriteLine($"Lesson ready in {(DateTime.UtcNow - started).TotalSeconds:0} s: {waiting} instances waiting for {workload.Students + workload.Browsers} students; app memory {ClassLoadHarness.Mb(app.AppMemoryBytes())}");
    }

    /// <summary>The admin signs in and makes a token on the access tokens page, as a person would.</summary>
    private async Task<string> AdminTokenAsync(AppUnderLoad app)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(ClassLoadHarness.Chromium);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = app.Address.ToString() });
        await page.GotoAsync("/Account/Login");
        await page.Locator("[data-testid=login-email]").FillAsync(AdminEmail);
        await page.Locator("[data-testid=login-password]").FillAsync(AdminPassword);
        await page.Locator("[data-testid=login-submit]").ClickAsync();
        var signedIn = page.Locator("[data-testid=current-user]");
        var refused = page.Locator("[data-testid=status-message]");
        await signedIn.Or(refused).First.WaitForAsync();
        if (!await signedIn.IsVisibleAsync())
        {
            throw new InvalidOperationException("The admin could not sign in: " + await refused.InnerTextAsync());
        }

        await page.GotoAsync("/Account/Manage/AccessTokens");
        await page.Locator("[data-testid=token-name]").FillAsync("class harness");
        await page.Locator("[data-testid=token-create]").ClickAsync();
        return (await page.Locator("[data-testid=new-token]").InnerTextAsync()).Trim();
    }

    public ValueTask DisposeAsync() => _git.DisposeAsync();
}
