using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Taidon.Core.Common;

namespace Taidon.Web.Features.Telemetry;

/// <summary>OpenTelemetry metrics and traces, the Prometheus endpoint, and the health endpoints.</summary>
public static class TelemetrySetup
{
    public const string MetricsPath = "/metrics";

    public static void AddTaidonTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMetricsPort();
        // The standard OTEL_EXPORTER_OTLP_ENDPOINT turns on export to a collector; /metrics is always served.
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("taidon"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(TaidonTelemetry.Name)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(TaidonTelemetry.Name)
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsProbe(context.Request.Path))
                    .AddHttpClientInstrumentation()
                    .AddNpgsql();
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }
            });

        // The control plane's checks (tagged "ready") are the adapters' (AddTaidonInfrastructure).
        services.AddHealthChecks();
    }

    public static void MapTaidonHealthAndMetrics(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new() { Predicate = _ => false }).AllowAnonymous().DisableRateLimiting();
        app.MapHealthChecks("/readyz", new() { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous().DisableRateLimiting();
        app.MapPrometheusScrapingEndpoint(MetricsPath).AllowAnonymous().DisableRateLimiting();
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments(MetricsPath);
}
