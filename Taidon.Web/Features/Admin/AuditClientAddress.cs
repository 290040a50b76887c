using Taidon.Core.Audit;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace Taidon.Web.Features.Admin;

/// <summary>Puts the client's address where audit rows find it: for each request, and for each event of a circuit.</summary>
public static class AuditClientAddress
{
    public static void AddAuditClientAddress(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddScoped<CircuitHandler, CircuitAddress>();
    }

    public static void UseAuditClientAddress(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            AuditClient.Address = context.Connection.RemoteIpAddress?.ToString();
            await next(context);
        });

    /// <summary>A circuit's events come over its connection, not a request: the address is the one it connected from.</summary>
    private sealed class CircuitAddress(IHttpContextAccessor http) : CircuitHandler
    {
        private string? _address;

        public override Task OnConnectionUpAsync(Circuit circuit, CancellationToken cancellationToken)
        {
            _address = http.HttpContext?.Connection.RemoteIpAddress?.ToString() ?? _address;
            return Task.CompletedTask;
        }

        public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
            context =>
            {
                AuditClient.Address = _address;
                return next(context);
            };
    }
}
