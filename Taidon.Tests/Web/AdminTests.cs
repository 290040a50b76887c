using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Taidon.Core.Audit;
using Taidon.Infrastructure.Audit;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>The admin area: refused to everyone but admins, quotas that reach the students' next runs, an append-only audit log.</summary>
public sealed class AdminTests : IAsyncLifetime
{
    private TaidonAppFactory _app = null!;

    public async Task InitializeAsync() =>
        _app = await TaidonAppFactory.CreateWithInstancesAsync("admin", new Dictionary<string, string?>
        {
            ["Taidon:RateLimits:AnonymousApiPerMinute"] = "10000",
            ["Taidon:RateLimits:ApiPerMinute"] = "10000",
        });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task EveryAdminPageAndEndpointRefusesVisitorsAndStudents()
    {
        var routes = AdminRoutes().ToList();
        Assert.True(routes.Count >= 25, $"Only {routes.Count} admin routes found: is the enumeration broken?");

        using var visitor = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var student = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        (await TaidonAppFactory.BecomeGuestAsync(student)).EnsureSuccessStatusCode();
        using var studentApi = await _app.GuestApiClientAsync();

        var leaks = new List<string>();
        foreach (var (method, path) in routes)
        {
            foreach (var (who, client) in new[] { ("visitor", visitor), ("student", student), ("student token", studentApi) })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT")
                {
                    request.Content = JsonContent.Create(new { });
                }

                using var response = await client.SendAsync(request);
                var location = response.Headers.Location?.ToString() ?? "";
                var refused = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                    || (response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther
                        && (location.Contains("/Account/Login", StringComparison.Ordinal) || location.Contains("/Account/AccessDenied", StringComparison.Ordinal)));
                if (!refused)
                {
                    leaks.Add($"{method} {path} as {who}: {(int)response.StatusCode} {location}");
                }
            }
        }

        Assert.True(leaks.Count == 0, "Not refused:\n" + string.Join("\n", leaks));
    }

    [Fact]
    public async Task AnAdminsPlanChangeReachesTheNextRunsOfGuestsAndIsAudited()
    {
        using var admin = await _app.AdminApiClientAsync();
        var plans = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/plans");
        var anonymous = plans.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "anonymous").GetProperty("limits");
        var limits = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(anonymous.GetRawText())!;
        limits["instancesPerAccount"] = JsonSerializer.SerializeToElement(1);
        limits["statementTimeoutSeconds"] = JsonSerializer.SerializeToElement(1);

        var saved = await admin.PutAsJsonAsync("/api/v1/admin/plans/anonymous", limits);
        Assert.Equal(HttpStatusCode.NoContent, saved.StatusCode);

        using var guest = await _app.GuestApiClientAsync();
        var run = await (await guest.PostAsJsonAsync("/api/v1/runs", new { script = "SELECT pg_sleep(3);" })).Content.ReadFromJsonAsync<JsonElement>();
        var error = run.GetProperty("statements")[0].GetProperty("error");
        Assert.Equal("57014", error.GetProperty("sqlState").GetString());

        var second = await guest.PostAsync("/api/v1/instances", null);
        Assert.Equal(HttpStatusCode.Forbidden, second.StatusCode);
        Assert.Contains("1 instances", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var changes = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/audit?action=quota.plan-change");
        var change = Assert.Single(changes.EnumerateArray());
        Assert.Equal("plan:anonymous", change.GetProperty("target").GetString());
        Assert.Contains("\"statementTimeoutSeconds\":1", change.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var refusals = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/audit?action=instance.create");
        Assert.Contains(refusals.EnumerateArray(), r => r.GetProperty("outcome").GetString() == "refused");
        var instances = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/instances?state=Running&sort=owner");
        var listed = Assert.Single(instances.EnumerateArray(), i => i.GetProperty("ownerAnonymous").GetBoolean());
        var owner = listed.GetProperty("ownerId").GetString();
        Assert.Single((await admin.GetFromJsonAsync<JsonElement>($"/api/v1/admin/instances?owner={owner}")).EnumerateArray());
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/instances?owner=nobody-at-all")).EnumerateArray());
        var runs = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/audit?action=run");
        Assert.Contains(runs.EnumerateArray(), r => r.GetProperty("detail").GetString()!.StartsWith("failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAdminFindsAccountsLocksOneAndGivesItOwnLimits()
    {
        using var admin = await _app.AdminApiClientAsync();
        using var guest = await _app.GuestApiClientAsync();
        var me = await guest.GetFromJsonAsync<JsonElement>("/api/v1/me");
        var id = me.GetProperty("id").GetString()!;

        var found = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/admin/accounts?search={id}");
        var account = Assert.Single(found.EnumerateArray());
        Assert.True(account.GetProperty("anonymous").GetBoolean());
        Assert.False(account.GetProperty("admin").GetBoolean());
        Assert.Contains((await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/accounts?search=admin@taidon.test")).EnumerateArray(), a => a.GetProperty("admin").GetBoolean());

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/accounts/{id}/plan", new { plan = (string?)null, @override = new { instancesPerAccount = 0 } })).StatusCode);
        var refused = await guest.PostAsync("/api/v1/instances", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("allows no instances", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/v1/admin/accounts/{id}/lock", new { value = true })).StatusCode);
        var locked = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/admin/accounts?search={id}");
        Assert.True(locked[0].GetProperty("locked").GetBoolean());
        Assert.Equal(0, locked[0].GetProperty("override").GetProperty("instancesPerAccount").GetInt32());
        var self = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/accounts?search=admin@taidon.test");
        var selfLock = await admin.PostAsJsonAsync($"/api/v1/admin/accounts/{self[0].GetProperty("id").GetString()}/lock", new { value = true });
        Assert.Equal(HttpStatusCode.BadRequest, selfLock.StatusCode);
        Assert.Contains("ask another admin", await selfLock.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALimitThatIsNotValidIsRefusedNamingIt()
    {
        using var admin = await _app.AdminApiClientAsync();
        var limits = new
        {
            instancesPerAccount = 2,
            cpu = "two",
            memory = "512",
            storageMegabytes = 1024,
            idleMinutes = -5,
            lifetimeHours = 24,
            statementTimeoutSeconds = 30,
            maxResultRows = 1000,
            runsPerMinute = 60,
            projectsPerAccount = 3,
        };

        var refused = await admin.PutAsJsonAsync("/api/v1/admin/plans/registered", limits);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var detail = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains("Idle stop (minutes) must be between 1 and 1440", detail, StringComparison.Ordinal);
        Assert.Contains("Memory per instance '512' needs a unit", detail, StringComparison.Ordinal);
        Assert.Contains("CPU per instance 'two'", detail, StringComparison.Ordinal);
        var plans = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/plans");
        Assert.Equal(15, plans.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "registered").GetProperty("limits").GetProperty("idleMinutes").GetInt32());
    }

    [Fact]
    public async Task TheAuditLogPagesByKeysetAndNeverChangesARow()
    {
        var audit = _app.Services.GetRequiredService<AuditLog>();
        for (var i = 0; i < 120; i++)
        {
            await audit.RecordAsync(new AuditEvent(AuditActions.CacheCollect, null, "paging-test", AuditOutcome.Succeeded, $"row {i}"), CancellationToken.None);
        }

        var seen = new List<long>();
        AuditCursor? after = null;
        while (true)
        {
            var page = await audit.SearchAsync(new AuditFilter(Target: "paging-test"), after, 50, CancellationToken.None);
            seen.AddRange(page.Select(r => r.Id));
            if (page.Count < 50)
            {
                break;
            }

            after = new AuditCursor(page[^1].At, page[^1].Id);
        }

        Assert.Equal(120, seen.Count);
        Assert.Equal(120, seen.Distinct().Count());
        Assert.Equal(seen.OrderDescending(), seen);

        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
        var change = await Assert.ThrowsAsync<PostgresException>(() => db.AuditEvents.Where(e => e.Target == "paging-test").ExecuteUpdateAsync(s => s.SetProperty(e => e.Detail, "forged")));
        Assert.Contains("append-only", change.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAuditExportIsCsvOfWhatTheFilterFinds()
    {
        using var admin = await _app.AdminApiClientAsync();
        var audit = _app.Services.GetRequiredService<AuditLog>();
        await audit.RecordAsync(new AuditEvent(AuditActions.CacheEvict, null, "csv-test", AuditOutcome.Succeeded, "=HYPERLINK(\"x\"), quoted"), CancellationToken.None);

        var csv = await admin.GetStringAsync("/api/v1/admin/audit.csv?target=csv-test");

        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("at,actor,action,target,outcome,detail,address", lines[0]);
        Assert.Single(lines[1..]);
        Assert.Contains(",cache.evict,csv-test,Succeeded,\"'=HYPERLINK(\"\"x\"\"), quoted\",", lines[1], StringComparison.Ordinal);
    }

    /// <summary>Every route of the admin area (pages, the jobs dashboard, the admin API), with sample values for its parameters.</summary>
    private IEnumerable<(string Method, string Path)> AdminRoutes()
    {
        var endpoints = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        foreach (var endpoint in endpoints)
        {
            var pattern = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            if (!pattern.StartsWith("/admin", StringComparison.OrdinalIgnoreCase) && !pattern.StartsWith("/api/v1/admin", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var path = System.Text.RegularExpressions.Regex.Replace(pattern, @"\{\*\*[^}]*\}", "");
            path = System.Text.RegularExpressions.Regex.Replace(path, @"\{[^}:]*:guid\}", Guid.NewGuid().ToString());
            path = System.Text.RegularExpressions.Regex.Replace(path, @"\{[^}]*\}", "x");
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            foreach (var method in methods.Where(m => m != "HEAD" && m != "OPTIONS"))
            {
                yield return (method, path);
            }
        }
    }
}
