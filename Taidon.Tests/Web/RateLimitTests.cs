using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

public sealed class RateLimitTests() : AppTests("ratelimit", new Dictionary<string, string?>
{
    ["Taidon:RateLimits:AnonymousApiPerMinute"] = "3",
    ["Taidon:RateLimits:ApiPerMinute"] = "100",
    ["Taidon:RateLimits:SignInPerMinute"] = "2",
    ["Taidon:RateLimits:NewVisitorsPerHour"] = "50",
})
{
    [Fact]
    public async Task AnAnonymousAccountOverItsApiLimitGets429WithRetryAfter()
    {
        using var client = App.CreateClient();
        var token = await AnonymousTokenAsync(client);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage last = null!;
        for (var i = 0; i < 4; i++)
        {
            last = await client.GetAsync("/api/v1/me");
            statuses.Add(last.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        var retryAfter = int.Parse(last.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal("application/problem+json", last.Content.Headers.ContentType?.MediaType);
        var problem = await last.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains($"Try again in {retryAfter} seconds", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EachAccountHasItsOwnBudget()
    {
        using var first = App.CreateClient();
        using var second = App.CreateClient();
        foreach (var client in new[] { first, second })
        {
            var token = await AnonymousTokenAsync(client);
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/api/v1/me")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await first.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task SignInAttemptsFromOneAddressAreLimited()
    {
        using var client = App.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["Input.Email"] = "x@example.org", ["Input.Password"] = "nope" });
            statuses.Add((await client.PostAsync("/Account/Login", form)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[2]);
        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, statuses.Take(2));
    }
}
