using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Audit;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>The installation's own bound on instances, whoever asks: past it, a clear "try again later" instead of more processes.</summary>
public sealed class InstallationCapacityTests : IAsyncLifetime
{
    private TaidonAppFactory _app = null!;

    public async Task InitializeAsync() =>
        _app = await TaidonAppFactory.CreateWithInstancesAsync("capacity", new Dictionary<string, string?> { ["Taidon:Instances:MaxTotal"] = "1" });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task ANewInstancePastTheInstallationsBoundIsA503WithRetryAfterNamingTheLimit()
    {
        using var first = await _app.GuestApiClientAsync();
        using var second = await _app.GuestApiClientAsync();
        Assert.Equal(HttpStatusCode.Created, (await first.PostAsync("/api/v1/instances", null)).StatusCode);

        using var created = await second.PostAsync("/api/v1/instances", null);
        using var ran = await second.PostAsJsonAsync("/api/v1/runs", new { script = "SELECT 1;" });

        foreach (var refused in new[] { created, ran })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromMinutes(5), refused.Headers.RetryAfter?.Delta);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("instances in this installation", problem.GetProperty("limit").GetString());
            Assert.Contains("at capacity", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains("Try again later", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
        Assert.Equal(1, await db.Instances.CountAsync());
        Assert.True(await db.AuditEvents.AnyAsync(e => e.Action == AuditActions.InstanceCreate && e.Outcome == AuditOutcome.Refused && e.Detail!.Contains("Taidon:Instances:MaxTotal")));
    }

    [Fact]
    public async Task NewInstancesAskedForAtOnceDoNotPassTheBoundTogether()
    {
        var guests = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => _app.GuestApiClientAsync()));

        var answers = await Task.WhenAll(guests.Select(guest => guest.PostAsync("/api/v1/instances", null)));

        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.ServiceUnavailable));
        await using var db = await _app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
        Assert.Equal(1, await db.Instances.CountAsync());
    }
}
