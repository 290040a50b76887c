using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Taidon.Core.Projects;
using Taidon.Core.Quotas;
using Taidon.Core.Runs;
using Taidon.Web.Features.Accounts;
using Taidon.Web.Features.Runs;
using Taidon.Web.Features.SqlChain;

namespace Taidon.Web.Features.Projects;

/// <summary>Projects over HTTP: an account's projects, their scripts (saved atomically, paths checked), and runs of a stored script.</summary>
public static class ProjectsApi
{
    public static void MapProjectsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1/projects").WithTags("Projects").RequireAuthorization(DependencyInjection.ApiPolicy);

        api.MapGet("/", async (ClaimsPrincipal user, ProjectService projects, CancellationToken ct) =>
            TypedResults.Ok((await projects.ListAsync(user.AccountId(), ct)).Select(ToResult).ToList()))
            .WithSummary("Your projects.");
        api.MapPost("/", CreateAsync).WithSummary("Creates a project, empty or from the sample course.");
        api.MapGet("/{id:guid}", (Guid id, ClaimsPrincipal user, ProjectService projects, CancellationToken ct) => Handle(id, async () =>
        {
            var (project, scripts) = await projects.OpenAsync(user.AccountId(), id, ct);
            return TypedResults.Ok(new ProjectWithScripts(ToResult(project), [.. scripts.Select(s => new ScriptResult(s.Path, s.Content, s.UpdatedAt))]));
        })).WithSummary("A project with its scripts in chain order.");
        api.MapPatch("/{id:guid}", (Guid id, NameBody body, ClaimsPrincipal user, ProjectService projects, CancellationToken ct) =>
            Handle(id, async () => TypedResults.Ok(ToResult(await projects.RenameAsync(user.AccountId(), id, body.Name, ct)))))
            .WithSummary("Renames a project.");
        api.MapPost("/{id:guid}/duplicate", (Guid id, NameBody body, ClaimsPrincipal user, ProjectService projects, CancellationToken ct) =>
            Handle(id, async () => TypedResults.Ok(ToResult(await projects.DuplicateAsync(user.AccountId(), id, body.Name, ct)))))
            .WithSummary("Copies a project under a new name.");
        api.MapDelete("/{id:guid}", (Guid id, ClaimsPrincipal user, ProjectService projects, CancellationToken ct) =>
            Handle(id, async () =>
            {
                await projects.DeleteAsync(user.AccountId(), id, ct);
                return TypedResults.NoContent();
            }))
            .WithSummary("Deletes a project with its scripts.");

        api.MapPut("/{id:guid}/scripts/{**path}", (Guid id, string path, ScriptBody body, ClaimsPrincipal user, ProjectService projects, CancellationToken ct) =>
            Handle(id, async () =>
            {
                var saved = await projects.SaveScriptAsync(user.AccountId(), id, path, body.Content, ct);
                return TypedResults.Ok(new ScriptResult(saved.Path, saved.Content, saved.UpdatedAt));
            }))
            .WithMetadata(new RequestSizeLimitAttribute(SqlChainApi.MaxRequestBytes))
            .WithSummary("Creates or replaces a script (atomically: a crash never leaves half a file).");
        api.MapDelete("/{id:guid}/scripts/{**path}", (Guid id, string path, ClaimsPrincipal user, ProjectService projects, CancellationToken ct) =>
            Handle(id, async () =>
            {
                await projects.DeleteScriptAsync(user.AccountId(), id, path, ct);
                return TypedResults.NoContent();
            }))
            .WithSummary("Deletes a script.");
        api.MapPost("/{id:guid}/rename-script", (Guid id, RenameScriptBody body, ClaimsPrincipal user, ProjectService projects, CancellationToken ct) =>
            Handle(id, async () =>
            {
                await projects.RenameScriptAsync(user.AccountId(), id, body.Path, body.NewPath, ct);
                return TypedResults.NoContent();
            }))
            .WithSummary("Renames or moves a script (its place in the chain follows its new path).");
        api.MapPost("/{id:guid}/runs", RunAsync)
            .WithSummary("Runs a stored script: init and seed, then that script (the head), on your default instance or 'instanceId'.");
    }

    public sealed record ProjectResult(Guid Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public sealed record ScriptResult(string Path, string Content, DateTimeOffset UpdatedAt);

    public sealed record ProjectWithScripts(ProjectResult Project, IReadOnlyList<ScriptResult> Scripts);

    public sealed record CreateBody(
        [property: Description("The project's name.")] string Name,
        [property: Description("\"empty\" (default) or \"sample\" (the sample course).")] string? From);

    public sealed record NameBody(string Name);

    public sealed record ScriptBody(string Content);

    public sealed record RenameScriptBody(string Path, string NewPath);

    public sealed record ProjectRunBody(
        [property: Description("The script to run, such as test/01_explore.sql.")] string Run,
        [property: Description("The instance to run on; your default one when absent.")] Guid? InstanceId,
        [property: Description("The statements to run now, by index over the whole chain.")] RunsApi.HeadBody? Head,
        [property: Description("An id to follow or stop the run while it runs.")] Guid? RunId);

    private static async Task<Results<Created<ProjectResult>, ProblemHttpResult>> CreateAsync(CreateBody body, ClaimsPrincipal user, ProjectService projects, CancellationToken ct)
    {
        var from = body.From ?? "empty";
        if (from is not ("empty" or "sample"))
        {
            return TypedResults.Problem($"\"from\" is \"empty\" or \"sample\", not \"{from}\".", statusCode: 400, title: "Unknown template");
        }

        try
        {
            var scripts = from == "sample" ? SampleCourse.Files.Select(f => (f.Path, f.Text)) : [];
            var project = await projects.CreateAsync(user.AccountId(), body.Name, scripts, ct);
            return TypedResults.Created($"/api/v1/projects/{project.Id}", ToResult(project));
        }
        catch (ProjectRefusedException e)
        {
            return Refused(e);
        }
        catch (QuotaExceededException e)
        {
            return RunsApi.Quota(e);
        }
    }

    private static async Task<Results<Ok<RunsApi.RunResponse>, ProblemHttpResult>> RunAsync(
        Guid id, ProjectRunBody body, ClaimsPrincipal user, ProjectService projects, RunService runs, IActiveRuns active, CancellationToken ct)
    {
        IReadOnlyList<ProjectScript> scripts;
        try
        {
            (_, scripts) = await projects.OpenAsync(user.AccountId(), id, ct);
        }
        catch (ProjectNotFoundException e)
        {
            return TypedResults.Problem(e.Message, statusCode: 404, title: "No such project");
        }

        var files = scripts.Select(s => new SqlChainApi.AnalyzeFile(s.Path, s.Content)).ToList();
        return await RunsApi.RunAsync(body.InstanceId, new RunsApi.RunBody(null, null, files, body.Run, body.Head, body.RunId), user, runs, active, ct);
    }

    /// <summary>Runs an operation on a project, turning refusals into problem details.</summary>
    private static async Task<Results<TResult, ProblemHttpResult>> Handle<TResult>(Guid id, Func<Task<TResult>> operation)
        where TResult : IResult
    {
        try
        {
            return await operation();
        }
        catch (ProjectNotFoundException)
        {
            return TypedResults.Problem($"You have no project {id}.", statusCode: 404, title: "No such project");
        }
        catch (ProjectRefusedException e)
        {
            return Refused(e);
        }
        catch (QuotaExceededException e)
        {
            return RunsApi.Quota(e);
        }
    }

    private static ProblemHttpResult Refused(ProjectRefusedException e) =>
        TypedResults.Problem(e.Message, statusCode: 400, title: "Refused");

    private static ProjectResult ToResult(Project p) => new(p.Id, p.Name, p.CreatedAt, p.UpdatedAt);

}
