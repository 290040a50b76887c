using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.Persistence.Records;
using Taidon.Infrastructure.Runs;
using Taidon.Web.Features.SqlChain;

namespace Taidon.Web.Features.Runs;

/// <summary>Runs and instances over HTTP: a student's SQL really runs, in a private PostgreSQL, from the longest cached prefix.</summary>
public static class RunsApi
{
    public static void MapRunsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1").WithTags("Runs and instances").RequireAuthorization(DependencyInjection.ApiPolicy);

        api.MapPost("/runs", (RunBody body, ClaimsPrincipal user, RunService runs, CancellationToken ct) => RunAsync(null, body, user, runs, ct))
            .WithMetadata(new RequestSizeLimitAttribute(SqlChainApi.MaxRequestBytes))
            .WithSummary("Runs a script (or a project's files) on your default instance, created on demand.");
        api.MapPost("/instances/{id:guid}/runs", (Guid id, RunBody body, ClaimsPrincipal user, RunService runs, CancellationToken ct) => RunAsync(id, body, user, runs, ct))
            .WithMetadata(new RequestSizeLimitAttribute(SqlChainApi.MaxRequestBytes))
            .WithSummary("Runs a script (or a project's files) on one of your instances.");

        api.MapGet("/instances", async (ClaimsPrincipal user, RunService runs, CancellationToken ct) =>
            TypedResults.Ok((await runs.ListAsync(Account(user), ct)).Select(ToResult).ToList()))
            .WithSummary("Your instances.");
        api.MapPost("/instances", CreateAsync).WithSummary("Creates an instance in the base state (an empty working database).");
        api.MapGet("/instances/{id:guid}", async Task<Results<Ok<InstanceResult>, ProblemHttpResult>> (Guid id, ClaimsPrincipal user, RunService runs, CancellationToken ct) =>
            (await runs.ListAsync(Account(user), ct)).SingleOrDefault(i => i.Id == id) is { } instance
                ? TypedResults.Ok(ToResult(instance))
                : NotFound(id));
        api.MapDelete("/instances/{id:guid}", DeleteAsync).WithSummary("Deletes an instance with its data.");
        api.MapPost("/instances/{id:guid}/reset", ResetAsync).WithSummary("Puts an instance back into the base state.");
    }

    public sealed record RunBody(
        [property: Description("An inline script to run.")] string? Script,
        [property: Description("The file name to report for 'script'.")] string? Path,
        [property: Description("Or a project's files: the chain is init/ and seed/, then the script named by 'run'.")] IReadOnlyList<SqlChainApi.AnalyzeFile>? Files,
        [property: Description("With 'files': the script to run (its statements are the head).")] string? Run,
        [property: Description("The statements to run now, by index over the whole chain; the default is the script being run.")] HeadBody? Head);

    public sealed record HeadBody(int? Start, int? End);

    public sealed record InstanceResult(Guid Id, string State, string? StateKey, string? StateKeyShort, DateTimeOffset CreatedAt, DateTimeOffset LastActivityAt, DateTimeOffset ExpiresAt);

    public sealed record PlanResult(string Start, int From, string FromKey, int Replayed, string Description, IReadOnlyList<string> LayersTaken);

    public sealed record StatementResult(int Index, string Status, string File, int Line, string? CommandTag, long? RowsAffected,
        IReadOnlyList<ResultSet> Results, IReadOnlyList<string> Notices, double DurationMs, ErrorResult? Error);

    public sealed record ErrorResult(string SqlState, string Message, string? Detail, string? Hint, string File, int? Line, int? Column);

    public sealed record RunResponse(Guid InstanceId, PlanResult Plan, string? FinalState, bool Succeeded, double DurationMs, IReadOnlyList<StatementResult> Statements);

    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> RunAsync(Guid? instanceId, RunBody body, ClaimsPrincipal user, RunService runs, CancellationToken ct)
    {
        if ((body.Script is null) == (body.Files is null))
        {
            return TypedResults.Problem("Send either \"script\" or \"files\".", statusCode: 400, title: "Nothing to run");
        }

        IReadOnlyList<SqlSource> sources;
        string? headFile = null;
        if (body.Script is not null)
        {
            sources = [new SqlSource(string.IsNullOrWhiteSpace(body.Path) ? "script.sql" : body.Path, body.Script)];
        }
        else
        {
            var files = body.Files!.Select(f => new SqlSource(f.Path, f.Content)).ToList();
            if (body.Run is { } script)
            {
                try
                {
                    var chained = ProjectChain.ScriptsForRun(files.Select(f => f.Path), script);
                    sources = [.. chained.Select(p => files.First(f => f.Path.Replace('\\', '/').TrimStart('/') == p) with { Path = p })];
                }
                catch (ArgumentException e)
                {
                    return TypedResults.Problem(e.Message.Split(" (Parameter")[0], statusCode: 400, title: "Unknown script");
                }

                // By default the head is the script being run: everything before it is the tail.
                headFile = sources[^1].Path;
            }
            else
            {
                sources = ChainAnalysis.InChainOrder(files);
            }
        }

        try
        {
            var (instance, chain, result) = await runs.RunAsync(Account(user), instanceId, sources, new HeadSelection(body.Head?.Start, body.Head?.End, headFile), null, ct);
            return TypedResults.Ok(ToResponse(instance, chain, result));
        }
        catch (ArgumentException e)
        {
            return TypedResults.Problem(e.Message.Split(" (Parameter")[0], statusCode: 422, title: "The script cannot be split");
        }
        catch (InstanceNotFoundException e)
        {
            return TypedResults.Problem(e.Message, statusCode: 404, title: "No such instance");
        }
        catch (QuotaExceededException e)
        {
            return Quota(e);
        }
    }

    private static async Task<Results<Created<InstanceResult>, ProblemHttpResult>> CreateAsync(ClaimsPrincipal user, RunService runs, CancellationToken ct)
    {
        try
        {
            var instance = await runs.CreateAsync(Account(user), ct);
            return TypedResults.Created($"/api/v1/instances/{instance.Id}", ToResult(instance));
        }
        catch (QuotaExceededException e)
        {
            return Quota(e);
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, ClaimsPrincipal user, RunService runs, CancellationToken ct)
    {
        try
        {
            await runs.DeleteAsync(Account(user), id, ct);
            return TypedResults.NoContent();
        }
        catch (InstanceNotFoundException)
        {
            return NotFound(id);
        }
    }

    private static async Task<Results<Ok<InstanceResult>, ProblemHttpResult>> ResetAsync(Guid id, ClaimsPrincipal user, RunService runs, CancellationToken ct)
    {
        try
        {
            return TypedResults.Ok(ToResult(await runs.ResetAsync(Account(user), id, ct)));
        }
        catch (InstanceNotFoundException)
        {
            return NotFound(id);
        }
    }

    private static RunResponse ToResponse(InstanceRecord instance, AnalyzedChain chain, RunResult result) => new(
        instance.Id,
        new PlanResult(
            result.Plan.Start.ToString(),
            result.Plan.From,
            result.Plan.FromKey.ToString(),
            result.Plan.ReplayCount,
            result.Plan.Describe(),
            [.. result.LayersTaken.Select(l => l.Key.ToString())]),
        result.FinalState?.ToString(),
        result.Succeeded,
        result.Duration.TotalMilliseconds,
        [.. result.Outcomes.Select(o => new StatementResult(
            o.Index,
            o.Status.ToString().ToLowerInvariant(),
            chain.Statements[o.Index].Span.File,
            chain.Statements[o.Index].Span.Start.Line,
            o.CommandTag,
            o.RowsAffected,
            o.Results,
            o.Notices,
            o.Duration.TotalMilliseconds,
            o.Error is { } e ? new ErrorResult(e.SqlState, e.Message, e.Detail, e.Hint, e.File, e.Position?.Line, e.Position?.Column) : null))]);

    private static InstanceResult ToResult(InstanceRecord i) =>
        new(i.Id, i.State.ToString().ToLowerInvariant(), i.StateKey, i.StateKey?[..ChainKey.ShortLength], i.CreatedAt, i.LastActivityAt, i.ExpiresAt);

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem($"You have no instance {id}.", statusCode: 404, title: "No such instance");

    private static ProblemHttpResult Quota(QuotaExceededException e) =>
        TypedResults.Problem(e.Message, statusCode: 403, title: "Quota reached", extensions: new Dictionary<string, object?> { ["limit"] = e.Limit });

    private static string Account(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("An authenticated request has no account id.");
}
