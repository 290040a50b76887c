using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Taidon.Web.Features.Telemetry;

/// <summary>Settings of <c>Taidon:Metrics</c>.</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Taidon:Metrics";

    /// <summary>
    /// The port that alone serves <c>/metrics</c>, apart from the app's port (which then answers 404 there).
    /// The app must listen on it too: <c>ASPNETCORE_HTTP_PORTS=8080;9090</c>. Unset, <c>/metrics</c> is served on the app's port.
    /// </summary>
    [Range(1, 65535, ErrorMessage = "Taidon:Metrics:Port must be a port number between 1 and 65535.")]
    public int? Port { get; set; }
}

/// <summary>
/// Keeps the metrics apart from the app when <see cref="MetricsOptions.Port"/> is set: only that port
/// serves <c>/metrics</c>, and it serves nothing else. Students reach the app's port through the ingress;
/// Prometheus reaches the metrics port inside the cluster.
/// </summary>
public static class MetricsPort
{
    public static void AddMetricsPort(this IServiceCollection services)
    {
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<MetricsPortCheck>();
    }

    public static void UseMetricsPort(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value.Port is not { } port)
        {
            return;
        }

        app.Use((context, next) =>
        {
            // The port the connection came in on: the Host header is the client's to choose and proves nothing.
            var onMetricsPort = context.Connection.LocalPort == port;
            if (onMetricsPort != context.Request.Path.StartsWithSegments(TelemetrySetup.MetricsPath))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
    }

    /// <summary>A metrics port the app does not listen on stops the start, naming both settings.</summary>
    private sealed class MetricsPortCheck(IServer server, IOptions<MetricsOptions> options) : IHostedLifecycleService
    {
        public Task StartedAsync(CancellationToken cancellationToken)
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            if (options.Value.Port is { } port && addresses.Count > 0
                && !addresses.Any(address => BindingAddress.Parse(address).Port == port))
            {
                throw new OptionsValidationException(MetricsOptions.SectionName, typeof(MetricsOptions),
                [$"Taidon:Metrics:Port is {port}, but the app listens only on {string.Join(", ", addresses)}: add the port to ASPNETCORE_HTTP_PORTS (for example 8080;{port}), or unset Taidon:Metrics:Port to serve /metrics on the app's port."]);
            }

            return Task.CompletedTask;
        }

        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
