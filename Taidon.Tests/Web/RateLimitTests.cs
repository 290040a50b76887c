using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

public sealed class RateLimitTests() : AppTests("ratelimit", new Dictionary<string, string?>
{
    ["Taidon:RateLimits:AnonymousApiPerMinute"] = "3",
    ["Taidon:RateLimits:ApiPerMinute"] = "100",
    ["Taidon:RateLimits:SignInPerMinute"] = "2",
    ["Taidon:RateLimits:NewVisitorsPerHour"] = "50",
    ["Taidon:RateLimits:NewVisitorsPerHourTotal"] = "5",
    ["Taidon:ForwardedHeaders:KnownProxies:0"] = "10.0.0.1",
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

    [Fact]
    public async Task AForwardedForFromAPeerThatIsNotAKnownProxyDoesNotChangeTheClientsBudget()
    {
        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            // Each attempt claims to come from another client; the peer is the same one.
            statuses.Add(await SignInFromAsync("198.51.100.7", $"203.0.113.{i + 1}"));
        }

        Assert.Equal(StatusCodes.Status429TooManyRequests, statuses[2]);
    }

    [Fact]
    public async Task AKnownProxysForwardedForNamesTheClientWhoseBudgetCounts()
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.NotEqual(StatusCodes.Status429TooManyRequests, await SignInFromAsync("10.0.0.1", $"192.0.2.{i + 1}"));
        }

        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add(await SignInFromAsync("10.0.0.1", "192.0.2.50"));
        }

        Assert.Equal(StatusCodes.Status429TooManyRequests, statuses[2]);
    }

    [Fact]
    public async Task NewGuestsFromManyAddressesMeetTheInstallationsHourlyBound()
    {
        for (var i = 0; i < 5; i++)
        {
            var guest = await App.Server.SendAsync(request =>
            {
                request.Request.Method = HttpMethods.Post;
                request.Request.Path = "/api/v1/anonymous";
                request.Connection.RemoteIpAddress = IPAddress.Parse($"198.51.100.{i + 1}");
            });
            Assert.Equal(StatusCodes.Status201Created, guest.Response.StatusCode);
        }

        // Another address, whose own budget is untouched.
        using var client = App.CreateClient();
        using var refused = await client.PostAsync("/api/v1/anonymous", null);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.Contains("Retry-After"));
        var detail = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString();
        Assert.Contains("5 an hour for the whole installation", detail, StringComparison.Ordinal);
        Assert.Contains("NewVisitorsPerHourTotal", detail, StringComparison.Ordinal);
    }

    /// <summary>A sign-in attempt as a TCP peer (a client, or a proxy) with the given X-Forwarded-For.</summary>
    private async Task<int> SignInFromAsync(string peer, string forwardedFor)
    {
        var context = await App.Server.SendAsync(request =>
        {
            request.Request.Method = HttpMethods.Post;
            request.Request.Path = "/Account/Login";
            request.Connection.RemoteIpAddress = IPAddress.Parse(peer);
            request.Request.Headers["X-Forwarded-For"] = forwardedFor;
            request.Request.ContentType = "application/x-www-form-urlencoded";
            request.Request.Body = new MemoryStream("Input.Email=x%40example.org&Input.Password=nope"u8.ToArray());
        });
        return context.Response.StatusCode;
    }
}
