using System.ComponentModel;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Taidon.Core.Instances;
using Taidon.Core.Quotas;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Web.Features.Accounts;
using Taidon.Web.Features.SqlChain;

namespace Taidon.Web.Features.Runs;

/// <summary>Runs and instances over HTTP: a student's SQL really runs, in a private PostgreSQL, from the longest cached prefix.</summary>
public static class RunsApi
{
    public static void MapRunsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1").WithTags("Runs and instances").RequireAuthorization(DependencyInjection.ApiPolicy);

        api.MapPost("/runs", (RunBody body, ClaimsPrincipal user, RunService runs, IActiveRuns active, CancellationToken ct) => RunAsync(null, body, user, runs, active, ct))
            .WithMetadata(new RequestSizeLimitAttribute(SqlChainApi.MaxRequestBytes))
            .WithSummary("Runs a script (or a project's files) on your default instance, created on demand.")
            .WithDescription("Give the run an id ('runId') to follow it with GET /api/v1/runs/{runId} and stop it with POST /api/v1/runs/{runId}/stop while it runs.");
        api.MapPost("/instances/{id:guid}/runs", (Guid id, RunBody body, ClaimsPrincipal user, RunService runs, IActiveRuns active, CancellationToken ct) => RunAsync(id, body, user, runs, active, ct))
            .WithMetadata(new RequestSizeLimitAttribute(SqlChainApi.MaxRequestBytes))
            .WithSummary("Runs a script (or a project's files) on one of your instances.");
        api.MapGet("/runs", async (ClaimsPrincipal user, IActiveRuns active, CancellationToken ct) =>
            TypedResults.Ok((await active.OfOwnerAsync(user.AccountId(), ct)).Select(ToProgress).ToList()))
            .WithSummary("Your runs in progress, with how far each is.");
        api.MapGet("/runs/history", async (ClaimsPrincipal user, RunService runs, CancellationToken ct, int take = 50) =>
            TypedResults.Ok((await runs.HistoryAsync(user.AccountId(), take, ct)).Select(ToHistory).ToList()))
            .WithSummary($"Your latest runs, newest first (at most {RunService.MaxHistory} are kept): the script, the text that ran, the plan and the outcome.");
        api.MapGet("/runs/{runId:guid}", async Task<Results<Ok<ProgressResult>, ProblemHttpResult>> (Guid runId, ClaimsPrincipal user, IActiveRuns active, CancellationToken ct) =>
            await active.FindAsync(user.AccountId(), runId, ct) is { } run ? TypedResults.Ok(ToProgress(run)) : NoRun(runId))
            .WithSummary("How far a run in progress is: statement i of n, and what it is doing (from any replica of the app).");
        api.MapPost("/runs/{runId:guid}/stop", async Task<Results<Accepted<ProgressResult>, ProblemHttpResult>> (Guid runId, ClaimsPrincipal user, IActiveRuns active, CancellationToken ct) =>
            await active.StopAsync(user.AccountId(), runId, ct) is { } run
                ? TypedResults.Accepted($"/api/v1/runs/{runId}", ToProgress(run))
                : NoRun(runId))
            .WithSummary("Stops a run in progress (from any replica of the app): the statement running is cancelled on the server, the rest is skipped.");

        api.MapGet("/instances", async (ClaimsPrincipal user, RunService runs, CancellationToken ct) =>
            TypedResults.Ok((await runs.ListAsync(user.AccountId(), ct)).Select(ToResult).ToList()))
            .WithSummary("Your instances.");
        api.MapPost("/instances", CreateAsync).WithSummary("Creates an instance in the base state (an empty working database).");
        api.MapGet("/instances/{id:guid}", async Task<Results<Ok<InstanceResult>, ProblemHttpResult>> (Guid id, ClaimsPrincipal user, RunService runs, CancellationToken ct) =>
            (await runs.ListAsync(user.AccountId(), ct)).SingleOrDefault(i => i.Id == id) is { } instance
                ? TypedResults.Ok(ToResult(instance))
                : NotFound(id));
        api.MapDelete("/instances/{id:guid}", DeleteAsync).WithSummary("Deletes an instance with its data.");
        api.MapPost("/instances/{id:guid}/reset", ResetAsync)
            .WithMetadata(new RequestSizeLimitAttribute(SqlChainApi.MaxRequestBytes))
            .WithSummary("Puts an instance back into the base state, or (with a chain and 'beforeStatement') into the state before a statement of the chain.");
        api.MapPost("/instances/{id:guid}/restart", RestartAsync).WithSummary("Restarts an instance's PostgreSQL (its data and state stay).");
    }

    public sealed record RunBody(
        [property: Description("An inline script to run.")] string? Script,
        [property: Description("The file name to report for 'script'.")] string? Path,
        [property: Description("Or a project's files: the chain is init/ and seed/, then the script named by 'run'.")] IReadOnlyList<SqlChainApi.AnalyzeFile>? Files,
        [property: Description("With 'files': the script to run (its statements are the head).")] string? Run,
        [property: Description("The statements to run now, by index over the whole chain; the default is the script being run.")] HeadBody? Head,
        [property: Description("An id you choose for this run, to follow or stop it from another request while it runs.")] Guid? RunId = null);

    public sealed record HeadBody(int? Start, int? End);

    public sealed record ResetBody(
        [property: Description("An inline script: the chain to reset along.")] string? Script,
        [property: Description("The file name to report for 'script'.")] string? Path,
        [property: Description("Or a project's files (with 'run', the chain of that script).")] IReadOnlyList<SqlChainApi.AnalyzeFile>? Files,
        [property: Description("With 'files': the script whose chain it is.")] string? Run,
        [property: Description("The statement (by index over the whole chain) before which the instance should stand.")] int? BeforeStatement);

    public sealed record InstanceResult(Guid Id, string State, string? StateKey, string? StateKeyShort, DateTimeOffset CreatedAt, DateTimeOffset LastActivityAt, DateTimeOffset ExpiresAt);

    public sealed record PlanResult(string Start, int From, string FromKey, int Replayed, string Description, IReadOnlyList<string> LayersTaken);

    public sealed record StatementResult(int Index, string Status, string File, int Line, string? CommandTag, long? RowsAffected,
        IReadOnlyList<ResultSet> Results, IReadOnlyList<string> Notices, double DurationMs, ErrorResult? Error, IReadOnlyList<CutResult> Cuts);

    /// <summary>A bound of the plan that cut this statement's answer: which (rows, bytes, values, noticesPerStatement, noticesPerRun), its value, how many items it cut, and what to do.</summary>
    public sealed record CutResult(string Kind, long Limit, long Count, string Message);

    public sealed record ErrorResult(string SqlState, string Message, string? Detail, string? Hint, string File, int? Line, int? Column);

    public sealed record HistoryResult(Guid Id, string Script, bool WholeScript, string Text, DateTimeOffset StartedAt, double DurationMs,
        string Outcome, string Start, string? FromKey, int Replayed, int HeadStatements, string? Error);

    private static HistoryResult ToHistory(RunHistoryEntry run) =>
        new(run.Id, run.ScriptPath, run.WholeScript, run.Text, run.StartedAt, run.DurationMilliseconds, run.Outcome,
            run.Start.ToString(), run.FromKey, run.Replayed, run.HeadStatements, run.Error);

    public sealed record RunResponse(Guid RunId, Guid InstanceId, PlanResult Plan, string? FinalState, bool Succeeded, bool Stopped, double DurationMs, IReadOnlyList<StatementResult> Statements);

    public sealed record ProgressResult(Guid RunId, DateTimeOffset StartedAt, int Current, int Total, string Phase, bool StopRequested);

    /// <summary>Runs the chain a body names (also for the projects' run endpoint).</summary>
    internal static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> RunAsync(
        Guid? instanceId, RunBody body, ClaimsPrincipal user, RunService runs, IActiveRuns active, CancellationToken ct)
    {
        var (sources, headFile, problem) = Sources(body);
        if (problem is not null)
        {
            return problem;
        }

        ActiveRun run;
        try
        {
            run = active.Begin(user.AccountId(), body.RunId, ct);
        }
        catch (ArgumentException e)
        {
            return TypedResults.Problem(e.Message.Split(" (Parameter")[0], statusCode: 409, title: "Run id in use");
        }

        try
        {
            using (run)
            {
                var (instance, chain, result) = await runs.RunAsync(user.AccountId(), instanceId, sources!, new HeadSelection(body.Head?.Start, body.Head?.End, headFile), run, run.Token);
                return TypedResults.Ok(ToResponse(run.Id, instance, chain, result));
            }
        }
        catch (ArgumentException e)
        {
            return TypedResults.Problem(e.Message.Split(" (Parameter")[0], statusCode: 422, title: "The script cannot be split");
        }
        catch (InstanceNotFoundException e)
        {
            return TypedResults.Problem(e.Message, statusCode: 404, title: "No such instance");
        }
        catch (OperationCanceledException) when (run.StopRequested && !ct.IsCancellationRequested)
        {
            return TypedResults.Problem("The run was stopped before its first statement; nothing ran.", statusCode: 409, title: "Run stopped");
        }
        catch (QuotaExceededException e)
        {
            return Quota(e);
        }
        catch (InstanceUnavailableException)
        {
            return Unavailable();
        }
    }

    /// <summary>The instance could not start: the student may try again; the reason is in the log for admins (it names cluster objects).</summary>
    private static ProblemHttpResult Unavailable() => TypedResults.Problem(
        "Your database could not be started just now. Try again in a minute; if it keeps failing, tell an admin (the reason is in the app's log).",
        statusCode: 503, title: "Instance unavailable");

    private static async Task<Results<Created<InstanceResult>, ProblemHttpResult>> CreateAsync(ClaimsPrincipal user, RunService runs, CancellationToken ct)
    {
        try
        {
            var instance = await runs.CreateAsync(user.AccountId(), ct);
            return TypedResults.Created($"/api/v1/instances/{instance.Id}", ToResult(instance));
        }
        catch (QuotaExceededException e)
        {
            return Quota(e);
        }
        catch (InstanceUnavailableException)
        {
            return Unavailable();
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, ClaimsPrincipal user, RunService runs, CancellationToken ct)
    {
        try
        {
            await runs.DeleteAsync(user.AccountId(), id, ct);
            return TypedResults.NoContent();
        }
        catch (InstanceNotFoundException)
        {
            return NotFound(id);
        }
    }

    private static async Task<Results<Ok<InstanceResult>, ProblemHttpResult>> ResetAsync(
        Guid id, ClaimsPrincipal user, RunService runs, CancellationToken ct, [FromBody] ResetBody? body = null)
    {
        try
        {
            if (body is null || (body.Script is null && body.Files is null))
            {
                return TypedResults.Ok(ToResult(await runs.ResetAsync(user.AccountId(), id, ct)));
            }

            var (sources, _, problem) = Sources(new RunBody(body.Script, body.Path, body.Files, body.Run, null));
            if (problem is not null)
            {
                return problem;
            }

            if (body.BeforeStatement is not { } before || before < 0)
            {
                return TypedResults.Problem("With a chain, say before which statement the instance should stand: \"beforeStatement\" (0 is the base state).",
                    statusCode: 400, title: "No statement named");
            }

            // Running nothing after the chain's first statements brings the instance to the state before 'before'.
            var (instance, _, _) = await runs.RunAsync(user.AccountId(), id, sources!, new HeadSelection(before, before), null, ct);
            return TypedResults.Ok(ToResult(instance));
        }
        catch (InstanceNotFoundException)
        {
            return NotFound(id);
        }
        catch (ArgumentException e)
        {
            return TypedResults.Problem(e.Message.Split(" (Parameter")[0], statusCode: 422, title: "The script cannot be split");
        }
    }

    private static async Task<Results<Ok<InstanceResult>, ProblemHttpResult>> RestartAsync(Guid id, ClaimsPrincipal user, RunService runs, CancellationToken ct)
    {
        try
        {
            return TypedResults.Ok(ToResult(await runs.RestartAsync(user.AccountId(), id, ct)));
        }
        catch (InstanceNotFoundException)
        {
            return NotFound(id);
        }
    }

    /// <summary>The chain a body names (an inline script, or a project's files with the script to run), or what is wrong with it.</summary>
    private static (IReadOnlyList<SqlSource>? Sources, string? HeadFile, ProblemHttpResult? Problem) Sources(RunBody body)
    {
        if ((body.Script is null) == (body.Files is null))
        {
            return (null, null, TypedResults.Problem("Send either \"script\" or \"files\".", statusCode: 400, title: "Nothing to run"));
        }

        if (body.Script is not null)
        {
            return ([new SqlSource(string.IsNullOrWhiteSpace(body.Path) ? "script.sql" : body.Path, body.Script)], null, null);
        }

        var files = body.Files!.Select(f => new SqlSource(f.Path, f.Content)).ToList();
        if (body.Run is not { } script)
        {
            return (ChainAnalysis.InChainOrder(files), null, null);
        }

        try
        {
            var chained = ProjectChain.ScriptsForRun(files.Select(f => f.Path), script);
            IReadOnlyList<SqlSource> sources = [.. chained.Select(p => files.First(f => f.Path.Replace('\\', '/').TrimStart('/') == p) with { Path = p })];

            // By default the head is the script being run: everything before it is the tail.
            return (sources, sources[^1].Path, null);
        }
        catch (ArgumentException e)
        {
            return (null, null, TypedResults.Problem(e.Message.Split(" (Parameter")[0], statusCode: 400, title: "Unknown script"));
        }
    }

    private static RunResponse ToResponse(Guid runId, Instance instance, AnalyzedChain chain, RunResult result) => new(
        runId,
        instance.Id,
        new PlanResult(
            result.Plan.Start.ToString(),
            result.Plan.From,
            result.Plan.FromKey.ToString(),
            result.Plan.ReplayCount,
            result.Plan.Describe(),
            [.. result.LayersTaken.Select(l => l.Layer.Key.ToString())]),
        result.FinalState?.ToString(),
        result.Succeeded,
        result.Stopped,
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
            o.Error is { } e ? new ErrorResult(e.SqlState, e.Message, e.Detail, e.Hint, e.File, e.Position?.Line, e.Position?.Column) : null,
            [.. o.Cuts.Select(c => new CutResult(JsonNamingPolicy.CamelCase.ConvertName(c.Kind.ToString()), c.Limit, c.Count, c.Describe()))]))]);

    private static InstanceResult ToResult(Instance i) =>
        new(i.Id, i.State.ToString().ToLowerInvariant(), i.StateKey, i.StateKey?[..ChainKey.ShortLength], i.CreatedAt, i.LastActivityAt, i.ExpiresAt);

    private static ProgressResult ToProgress(RunInProgress run) =>
        new(run.Id, run.StartedAt, run.Progress?.Current ?? 0, run.Progress?.Total ?? 0, run.Progress?.Describe() ?? "starting", run.StopRequested);

    private static ProblemHttpResult NoRun(Guid runId) =>
        TypedResults.Problem($"You have no run {runId} in progress (it may have finished).", statusCode: 404, title: "No such run");

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem($"You have no instance {id}.", statusCode: 404, title: "No such instance");

    internal static ProblemHttpResult Quota(QuotaExceededException e) =>
        TypedResults.Problem(e.Message, statusCode: 403, title: "Quota reached", extensions: new Dictionary<string, object?> { ["limit"] = e.Limit });

}
