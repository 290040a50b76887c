using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>The metrics on a port of their own (as the chart sets it): Prometheus reaches them, students do not.</summary>
[Collection(HostStartRefusals.Name)]
public sealed class MetricsPortTests
{
    [Fact]
    public async Task OnlyTheMetricsPortServesTheMetricsAndItServesNothingElse()
    {
        var metricsPort = Loopback.FreePort();
        await using var app = await TaidonAppFactory.CreateAsync("metricsport", Settings(metricsPort));
        using var client = new HttpClient { BaseAddress = app.StartOnLoopback(metricsPort) };
        var metrics = new Uri($"http://127.0.0.1:{metricsPort}");

        (await client.PostAsync("/api/v1/anonymous", null)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);

        // Naming the metrics port in the Host header does not reach them: the port the request came in on counts.
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        spoofed.Headers.Host = $"127.0.0.1:{metricsPort}";
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(spoofed)).StatusCode);

        Assert.Contains("taidon_accounts_created_total", await client.GetStringAsync(new Uri(metrics, "/metrics")), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri(metrics, "/"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync(new Uri(metrics, "/api/v1/anonymous"), null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri(metrics, "/admin/jobs"))).StatusCode);
    }

    [Fact]
    public async Task AMetricsPortTheAppDoesNotListenOnStopsTheStartNamingTheSettings()
    {
        var metricsPort = Loopback.FreePort();
        await using var app = await TaidonAppFactory.CreateAsync("metricsportmissing", Settings(metricsPort));

        var error = Assert.Throws<OptionsValidationException>(() => app.StartOnLoopback());

        Assert.Contains($"Taidon:Metrics:Port is {metricsPort}, but the app listens only on http://127.0.0.1:", error.Message, StringComparison.Ordinal);
        Assert.Contains($"add the port to ASPNETCORE_HTTP_PORTS (for example 8080;{metricsPort})", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMetricsPortThatIsNoPortIsRefusedAtStart()
    {
        await using var app = await TaidonAppFactory.CreateAsync("metricsportbad", new Dictionary<string, string?> { ["Taidon:Metrics:Port"] = "70000" });

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains("Taidon:Metrics:Port must be a port number between 1 and 65535", error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Settings(int metricsPort) =>
        new() { ["Taidon:Metrics:Port"] = metricsPort.ToString(CultureInfo.InvariantCulture) };
}
