using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Taidon.Infrastructure.Persistence;
using Taidon.Web.Features.Gateway;

namespace Taidon.Tests.Web;

/// <summary>A control plane that does not answer in time is a busy installation (503, Retry-After), never a 500.</summary>
public sealed class ControlPlaneBusyTests
{
    /// <summary>What a class of 300 with 20 browsers on two cores met: EF's retry strategy around a timed-out connection.</summary>
    private static readonly Exception TimedOut = new InvalidOperationException(
        "An exception has been raised that is likely due to a transient failure.", new NpgsqlException("The operation has timed out", new TimeoutException()));

    public static TheoryData<Exception, bool> Failures => new()
    {
        { TimedOut, true },
        { new NpgsqlException("The connection pool has been exhausted, either raise 'Max Pool Size' (currently 100) or 'Timeout' (currently 15 seconds) in your connection string.", new TimeoutException()), true },
        { new PostgresException("sorry, too many clients already", "FATAL", "FATAL", "53300"), true },
        { new PostgresException("the database system is shutting down", "FATAL", "FATAL", "57P03"), true },
        { new PostgresException("relation \"x\" does not exist", "ERROR", "ERROR", "42P01"), false },
        { new InvalidOperationException("A bug."), false },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void OnlyAnUnansweredControlPlaneIsBusy(Exception failure, bool busy) => Assert.Equal(busy, ControlPlaneBusy.Is(failure));

    [Fact]
    public async Task AnApiCallIsAnsweredWith503RetryAfterAndAProblemThatSaysNothingIsLost()
    {
        var (context, handler) = Request("/api/v1/runs");

        var handled = await handler.TryHandleAsync(context, TimedOut, CancellationToken.None);

        Assert.True(handled);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal("5", context.Response.Headers.RetryAfter.ToString());
        context.Response.Body.Position = 0;
        var problem = await JsonSerializer.DeserializeAsync<JsonElement>(context.Response.Body);
        Assert.Equal("Server busy", problem.GetProperty("title").GetString());
        Assert.Contains("Nothing you saved is lost", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("timed out", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PagesAndOtherFailuresAreLeftToTheirOwnHandlers()
    {
        var (page, pageHandler) = Request("/workspace");
        var (api, apiHandler) = Request("/api/v1/runs");

        Assert.False(await pageHandler.TryHandleAsync(page, TimedOut, CancellationToken.None));
        Assert.False(await apiHandler.TryHandleAsync(api, new InvalidOperationException("A bug."), CancellationToken.None));
    }

    private static (HttpContext Context, ControlPlaneBusyHandler Handler) Request(string path)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Path = path;
        context.Request.Method = "POST";
        context.Request.Headers.Accept = "application/json";
        context.Response.Body = new MemoryStream();
        return (context, new ControlPlaneBusyHandler(services.GetRequiredService<Microsoft.AspNetCore.Http.IProblemDetailsService>(), new BusyControlPlane(ControlPlaneBusy.Is), NullLogger<ControlPlaneBusyHandler>.Instance));
    }
}
