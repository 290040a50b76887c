using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Taidon.Infrastructure.Identity;
using Taidon.Tests.Support;
using Taidon.Web.Features.Accounts;

namespace Taidon.Tests.Web;

public sealed class GatewayTests() : AppTests("gateway")
{
    [Fact]
    public async Task AnonymousTokenAuthenticatesAsAnAnonymousStudent()
    {
        using var client = App.CreateClient();

        var created = await client.PostAsync("/api/v1/anonymous", null);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.True(me.GetProperty("anonymous").GetBoolean());
        Assert.Equal(["Student"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task WrongTokenIsRefusedWithAProblemThatSaysWhatToDo()
    {
        using var client = App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "tdn_" + new string('x', 43));

        var response = await client.GetAsync("/api/v1/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("unknown, revoked or expired", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiRefusesTheSignInCookieWithoutAToken()
    {
        using var client = App.CreateClient();
        (await TaidonAppFactory.BecomeGuestAsync(client)).EnsureSuccessStatusCode(); // a guest with a cookie

        var response = await client.GetAsync("/api/v1/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AdminApiIsRefusedToStudentsAndOpenToAdmins()
    {
        using var client = App.CreateClient();
        var student = await AnonymousTokenAsync(client);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", student);

        var refused = await client.GetAsync("/api/v1/admin/accounts/summary");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);

        using var admin = await App.AdminApiClientAsync();
        var summary = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/accounts/summary");
        Assert.Equal(1, summary.GetProperty("admins").GetInt32());
        Assert.True(summary.GetProperty("anonymous").GetInt32() >= 1);
    }

    [Fact]
    public async Task PersonalTokensAreCreatedListedWithoutTheirValueAndRevoked()
    {
        using var client = App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await AnonymousTokenAsync(client));

        var created = await client.PostAsJsonAsync("/api/v1/tokens", new { name = "grading script", expiresInDays = 30 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var token = body.GetProperty("token").GetString()!;
        var id = body.GetProperty("info").GetProperty("id").GetString();

        var list = await client.GetStringAsync("/api/v1/tokens");
        Assert.Contains("grading script", list, StringComparison.Ordinal);
        Assert.DoesNotContain(token, list, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);
        using var revoked = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
        revoked.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(revoked)).StatusCode);
    }

    [Fact]
    public async Task InvalidTokenRequestIsA400ProblemNamingTheField()
    {
        using var client = App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await AnonymousTokenAsync(client));

        var response = await client.PostAsJsonAsync("/api/v1/tokens", new { name = "x", expiresInDays = -3 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("expiresInDays", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheApiAndItsBearerScheme()
    {
        using var client = App.CreateClient();

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/anonymous", out _));
        Assert.True(paths.TryGetProperty("/api/v1/tokens", out _));
        Assert.False(paths.TryGetProperty("/Account/Logout", out _));
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task HealthReadinessAndMetricsAreServed()
    {
        using var client = App.CreateClient();
        await client.PostAsync("/api/v1/anonymous", null);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("taidon_accounts_created_total", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APageViewMakesNoAccountAndTheFirstEditMakesOneWithACookie()
    {
        using var client = App.CreateClient(new() { HandleCookies = true });
        var before = await AccountCountAsync();

        var page = await client.GetAsync("/");

        // The sample course is shown, and nothing is made: a crawler or a link preview costs no account.
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.False(SetsSession(page));
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("Taidon Books", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"guest-banner\"", html, StringComparison.Ordinal);
        Assert.Equal(before, await AccountCountAsync());

        // A form on another site cannot make one: the workspace's script sends a header a form cannot.
        using var forged = await client.PostAsync(GuestSignIn.Path, null);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(before, await AccountCountAsync());

        using var first = await TaidonAppFactory.BecomeGuestAsync(client);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True(SetsSession(first));
        Assert.NotEmpty((await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("pass").GetString()!);
        Assert.Equal(before + 1, await AccountCountAsync());

        // The cookie keeps the account: another tab's first edit, or the next page, makes no second one.
        using var again = await TaidonAppFactory.BecomeGuestAsync(client);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.False(SetsSession(again));
        var next = await client.GetAsync("/");
        Assert.Contains("data-testid=\"guest-banner\"", await next.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before + 1, await AccountCountAsync());
    }

    private static bool SetsSession(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("taidon.session=", StringComparison.Ordinal));

    private async Task<int> AccountCountAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<TaidonUser>>().Users.CountAsync();
    }
}
