using Microsoft.AspNetCore.Diagnostics;
using Taidon.Core.Quotas;

namespace Taidon.Web.Features.Gateway;

/// <summary>
/// Any API call that meets a limit of the whole installation (whichever endpoint reached it) is a 503
/// problem with Retry-After, naming the limit: the client did nothing wrong and may try again later.
/// </summary>
public sealed class InstallationAtCapacityHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not InstallationAtCapacityException full || !context.Request.Path.StartsWithSegments("/api"))
        {
            return false;
        }

        return await ServiceUnavailableProblem.WriteAsync(problems, context, exception, full.RetryAfter, "Installation at capacity", full.Message, full.Limit);
    }
}
