using System.Globalization;
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

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = ((int)Math.Ceiling(full.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Installation at capacity",
                Detail = full.Message,
                Extensions = { ["limit"] = full.Limit },
            },
        });
    }
}
