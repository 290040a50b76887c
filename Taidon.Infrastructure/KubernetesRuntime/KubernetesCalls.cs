using System.Net;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>How the runtime calls the API server: transient failures are retried with backoff; 404 and 409 are answers, not failures.</summary>
public static class KubernetesCalls
{
    private const int Attempts = 6;

    /// <summary>
    /// Calls <paramref name="call"/>, again while the API server is busy or unreachable: after the time its
    /// <c>Retry-After</c> asks for (API Priority and Fairness sends one with its 429s), else after 0.2, 0.4,
    /// 0.8 … seconds; with jitter either way, so that a class's starts do not come back together.
    /// </summary>
    public static async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> call, ILogger logger, string what, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cancellationToken);
            }
            catch (Exception e) when (attempt < Attempts && IsTransient(e, cancellationToken))
            {
                var delay = RetryDelay(e, attempt);
                logger.LogWarning("The Kubernetes API failed to {What} ({Problem}); trying again in {Delay} ms", what, Describe(e), (int)delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    public static Task RetryAsync(Func<CancellationToken, Task> call, ILogger logger, string what, CancellationToken cancellationToken) =>
        RetryAsync(async c =>
        {
            await call(c);
            return true;
        }, logger, what, cancellationToken);

    /// <summary>Deletes, treating "not found" as done (it is gone either way).</summary>
    public static async Task DeleteAsync(Func<CancellationToken, Task> delete, ILogger logger, string what, CancellationToken cancellationToken)
    {
        try
        {
            await RetryAsync(delete, logger, what, cancellationToken);
        }
        catch (Exception e) when (IsStatus(e, HttpStatusCode.NotFound))
        {
        }
    }

    /// <summary>Reads, with null for "not found".</summary>
    public static async Task<T?> FindAsync<T>(Func<CancellationToken, Task<T>> read, ILogger logger, string what, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await RetryAsync(read, logger, what, cancellationToken);
        }
        catch (Exception e) when (IsStatus(e, HttpStatusCode.NotFound))
        {
            return null;
        }
    }

    /// <summary>The most a Retry-After is followed: an API server asking for more is treated as down for that long.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait before attempt <paramref name="attempt"/> + 1: the server's Retry-After (in seconds, at most <see cref="MaxRetryAfter"/>) plus up to a fifth more, else the backoff.</summary>
    public static TimeSpan RetryDelay(Exception e, int attempt)
    {
        var jitter = 0.75 + (Random.Shared.NextDouble() / 2);
        if (e is HttpOperationException { Response.Headers: { } headers }
            && headers.FirstOrDefault(h => string.Equals(h.Key, "Retry-After", StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault() is { } value
            && int.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            var asked = TimeSpan.FromSeconds(Math.Min(seconds, MaxRetryAfter.TotalSeconds));
            return asked * (1 + ((jitter - 0.75) * 0.4));
        }

        return TimeSpan.FromMilliseconds(200 * Math.Pow(2, attempt - 1) * jitter);
    }

    public static bool IsStatus(Exception e, HttpStatusCode status) => e is HttpOperationException { Response.StatusCode: var code } && code == status;

    public static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        HttpOperationException { Response.StatusCode: var code } => code is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout,
        HttpRequestException => true,
        TaskCanceledException or TimeoutException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>What the API server said, without the request (which may carry a Secret's data).</summary>
    public static string Describe(Exception e) => e switch
    {
        HttpOperationException { Response: { } response } => $"{(int)response.StatusCode} {response.ReasonPhrase}: {Message(response.Content)}",
        _ => e.Message,
    };

    private static string Message(string? content)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(content ?? "");
            return json.RootElement.TryGetProperty("message", out var message) ? message.GetString() ?? "" : "";
        }
        catch (System.Text.Json.JsonException)
        {
            return "";
        }
    }
}
