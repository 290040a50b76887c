using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Taidon.Core.Accounts;
using Taidon.Core.Common;
using Taidon.Web.Features.Accounts;

namespace Taidon.Web.Features.Gateway;

/// <summary>Settings of <c>Taidon:RateLimits</c> (requests per window).</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "Taidon:RateLimits";

    [Range(1, 100_000, ErrorMessage = "Taidon:RateLimits:ApiPerMinute must be between 1 and 100000.")]
    public int ApiPerMinute { get; set; } = 120;

    [Range(1, 100_000, ErrorMessage = "Taidon:RateLimits:AnonymousApiPerMinute must be between 1 and 100000.")]
    public int AnonymousApiPerMinute { get; set; } = 30;

    /// <summary>Sign-in and registration attempts per client address.</summary>
    [Range(1, 10_000, ErrorMessage = "Taidon:RateLimits:SignInPerMinute must be between 1 and 10000.")]
    public int SignInPerMinute { get; set; } = 10;

    /// <summary>New anonymous accounts (a visitor's first edit or run, and POST /api/v1/anonymous) per client address.</summary>
    [Range(1, 100_000, ErrorMessage = "Taidon:RateLimits:NewVisitorsPerHour must be between 1 and 100000.")]
    public int NewVisitorsPerHour { get; set; } = 300;

    /// <summary>New anonymous accounts per hour from all addresses together: many addresses cannot make guests without bound.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Taidon:RateLimits:NewVisitorsPerHourTotal must be between 1 and 1000000.")]
    public int NewVisitorsPerHourTotal { get; set; } = 3000;
}

/// <summary>
/// The gateway's rate limits, partitioned per account (anonymous accounts stricter) on the API and per
/// client address where no account is known yet (sign-in, new visitors), and new visitors of the whole
/// installation on top. A refusal is a 429 problem with Retry-After that names the limit.
/// </summary>
public static class RateLimiting
{
    public static void AddTaidonRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((limiter, limits) =>
        {
            var settings = limits.Value;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context => Partition(context, settings)),
                PartitionedRateLimiter.Create<HttpContext, string>(context => InstallationPartition(context, settings)));
            limiter.OnRejected = RejectAsync;
        });
    }

    internal static RateLimitPartition<string> Partition(HttpContext context, RateLimitOptions limits)
    {
        var path = context.Request.Path;
        var address = AddressKey(context.Connection.RemoteIpAddress);
        var isPost = HttpMethods.IsPost(context.Request.Method);

        if (isPost && (path.StartsWithSegments("/Account/Login", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/Account/Register", StringComparison.OrdinalIgnoreCase)))
        {
            return Window("signin:" + address, limits.SignInPerMinute, TimeSpan.FromMinutes(1));
        }

        if (MakesAGuest(context))
        {
            return Window("visitor:" + address, limits.NewVisitorsPerHour, TimeSpan.FromHours(1));
        }

        if (path.StartsWithSegments("/api"))
        {
            var account = context.User.FindFirstValue(ClaimTypes.NameIdentifier);
            if (account is null)
            {
                // Unauthenticated API calls (wrong tokens among them) share the client address's budget.
                return Window("api-address:" + address, limits.AnonymousApiPerMinute, TimeSpan.FromMinutes(1));
            }

            return context.User.HasClaim(TaidonClaims.Anonymous, "true")
                ? Window("api-anonymous:" + account, limits.AnonymousApiPerMinute, TimeSpan.FromMinutes(1))
                : Window("api:" + account, limits.ApiPerMinute, TimeSpan.FromMinutes(1));
        }

        return RateLimitPartition.GetNoLimiter("unlimited");
    }

    /// <summary>The limits of the whole installation, on top of each client's: new guests from all addresses together.</summary>
    internal static RateLimitPartition<string> InstallationPartition(HttpContext context, RateLimitOptions limits) =>
        MakesAGuest(context)
            ? Window("visitors-total", limits.NewVisitorsPerHourTotal, TimeSpan.FromHours(1))
            : RateLimitPartition.GetNoLimiter("unlimited");

    /// <summary>A request that makes a guest account when it succeeds: POST /api/v1/anonymous, or a visitor's first edit or run (POST /account/guest without an account).</summary>
    private static bool MakesAGuest(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method)
        && (context.Request.Path.Equals("/api/v1/anonymous", StringComparison.OrdinalIgnoreCase)
            || (context.User.Identity?.IsAuthenticated != true && context.Request.Path.Equals(GuestSignIn.Path, StringComparison.OrdinalIgnoreCase)));

    /// <summary>
    /// The client an address stands for in the per-address limits. One IPv6 subscriber gets a whole /64
    /// (every address in it costs nothing to take), so an IPv6 address counts by its /64; an IPv4 address
    /// seen as IPv4-mapped IPv6 (a dual-stack socket) counts as the IPv4 address it is.
    /// </summary>
    internal static string AddressKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }

        return address.ToString();
    }

    private static RateLimitPartition<string> Window(string key, int permits, TimeSpan window) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        context.RequestServices.GetRequiredService<TaidonTelemetry>().RateLimited.Add(1);
        var limits = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"{LimitReached(context, limits)} Try again in {seconds} seconds.",
            },
        });
    }

    /// <summary>Which limit a refused request met, in the words of its settings.</summary>
    private static string LimitReached(HttpContext context, RateLimitOptions limits)
    {
        if (MakesAGuest(context))
        {
            return $"New guest accounts are limited to {limits.NewVisitorsPerHour} an hour from one address and {limits.NewVisitorsPerHourTotal} an hour for the whole installation "
                + "(Taidon:RateLimits:NewVisitorsPerHour, NewVisitorsPerHourTotal); an existing account can still sign in.";
        }

        if (!context.Request.Path.StartsWithSegments("/api"))
        {
            return $"Sign-in and registration attempts are limited to {limits.SignInPerMinute} a minute from one address (Taidon:RateLimits:SignInPerMinute).";
        }

        return context.User.Identity?.IsAuthenticated == true && !context.User.HasClaim(TaidonClaims.Anonymous, "true")
            ? $"You have reached the request limit of {limits.ApiPerMinute} a minute (Taidon:RateLimits:ApiPerMinute)."
            : $"You have reached the request limit of {limits.AnonymousApiPerMinute} a minute for a guest or a request without a token (Taidon:RateLimits:AnonymousApiPerMinute).";
    }
}
