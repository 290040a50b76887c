using System.Globalization;

namespace Taidon.Web.Features.Gateway;

/// <summary>
/// The answer to an API call the installation cannot serve now through no fault of the client's: a 503
/// problem naming the limit, with Retry-After in whole seconds (rounded up, at least one).
/// </summary>
public static class ServiceUnavailableProblem
{
    public static ValueTask<bool> WriteAsync(
        IProblemDetailsService problems, HttpContext context, Exception exception, TimeSpan retryAfter, string title, string detail, string limit)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = title,
                Detail = detail,
                Extensions = { ["limit"] = limit },
            },
        });
    }
}
