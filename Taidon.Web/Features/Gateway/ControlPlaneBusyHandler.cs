using Microsoft.AspNetCore.Diagnostics;

namespace Taidon.Web.Features.Gateway;

/// <summary>
/// An API call whose control-plane queries timed out (the installation overloaded, or its database
/// restarting) is a 503 problem with Retry-After, as any other limit of the installation: the client did
/// nothing wrong, what it saved before stays saved, and the same call may be made again.
/// </summary>
public sealed class ControlPlaneBusyHandler(IProblemDetailsService problems, BusyControlPlane busy, ILogger<ControlPlaneBusyHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!context.Request.Path.StartsWithSegments("/api") || !busy.Is(exception))
        {
            return false;
        }

        logger.LogWarning("{Method} {Path} answered 503: the control plane did not answer in time ({Error})", context.Request.Method, context.Request.Path, exception.GetBaseException().Message);
        return await ServiceUnavailableProblem.WriteAsync(problems, context, exception, BusyControlPlane.RetryAfter, "Server busy",
            "The server's database did not answer in time: the server is under heavy load. Nothing you saved is lost; try again in a few seconds.",
            "control-plane");
    }
}
