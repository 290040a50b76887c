using System.ComponentModel;
using System.Security.Claims;
using Taidon.Core.Git;
using Taidon.Core.Projects;
using Taidon.Core.Quotas;
using Taidon.Web.Features.Accounts;
using Taidon.Web.Features.Runs;

namespace Taidon.Web.Features.Git;

/// <summary>Git over HTTP: tokens per host (saved, never shown), import from a URL, status, commit, pull, push.</summary>
public static class GitApi
{
    public static void MapGitApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1").WithTags("Git").RequireAuthorization(DependencyInjection.ApiPolicy);

        api.MapGet("/git/credentials", async (ClaimsPrincipal user, IGitCredentialStore store, CancellationToken ct) =>
            TypedResults.Ok(await store.ListAsync(user.AccountId(), ct)))
            .WithSummary("The Git hosts you saved a token for (the tokens are never shown).");
        api.MapPut("/git/credentials/{host}", (string host, CredentialBody body, ClaimsPrincipal user, IGitCredentialStore store, CancellationToken ct) =>
            Handle(async () =>
            {
                await store.SaveAsync(user.AccountId(), host, body.Username ?? "", body.Token, ct);
                return TypedResults.NoContent();
            }))
            .WithSummary("Saves your access token for a Git host (host or host:port for https; http://host:port, URL-encoded, for a server without https); it is kept encrypted and used only for your projects, and only over the scheme it was saved for.");
        api.MapDelete("/git/credentials/{host}", (string host, ClaimsPrincipal user, IGitCredentialStore store, CancellationToken ct) =>
            Handle(async () =>
            {
                await store.DeleteAsync(user.AccountId(), host, ct);
                return TypedResults.NoContent();
            }))
            .WithSummary("Forgets your token for a host.");

        api.MapPost("/projects/import", (ImportBody body, ClaimsPrincipal user, IProjectGit git, CancellationToken ct) =>
            Handle(async () =>
            {
                var project = await git.ImportAsync(user.AccountId(), body.Url, body.Name, ct);
                return TypedResults.Created($"/api/v1/projects/{project.Id}", new { project.Id, project.Name });
            }))
            .WithSummary("Creates a project from a Git repository (its default branch); links in it become plain files.");
        api.MapGet("/projects/{id:guid}/git", (Guid id, ClaimsPrincipal user, IProjectGit git, CancellationToken ct) =>
            Handle(async () => await git.StatusAsync(user.AccountId(), id, ct) is { } status
                ? TypedResults.Ok(status)
                : (IResult)TypedResults.Problem("The project is not a Git repository.", statusCode: 404, title: "Not a repository")))
            .WithSummary("The project's branch, remote, changed files, and commits ahead of and behind the remote (as last fetched).");
        api.MapPost("/projects/{id:guid}/git/connect", (Guid id, UrlBody body, ClaimsPrincipal user, IProjectGit git, CancellationToken ct) =>
            Handle(async () =>
            {
                await git.ConnectAsync(user.AccountId(), id, body.Url, ct);
                return TypedResults.NoContent();
            }))
            .WithSummary("Makes the project a repository with this remote (to publish it with commit and push).");
        api.MapPost("/projects/{id:guid}/git/commit", (Guid id, CommitBody body, ClaimsPrincipal user, IProjectGit git, CancellationToken ct) =>
            Handle(async () => TypedResults.Ok(new { commit = await git.CommitAsync(user.AccountId(), id, body.Message, ct) })))
            .WithSummary("Commits every change of the project with a message.");
        api.MapPost("/projects/{id:guid}/git/pull", (Guid id, PullBody body, ClaimsPrincipal user, IProjectGit git, CancellationToken ct) =>
            Handle(async () => TypedResults.Ok(await git.PullAsync(user.AccountId(), id, body.OnConflict ?? GitConflictChoice.Stop, ct))))
            .WithSummary("Brings in the remote's commits; your changes are committed first and never lost. On a conflict it stops and names the files, unless onConflict is keepMine or takeTheirs.");
        api.MapPost("/projects/{id:guid}/git/push", (Guid id, ClaimsPrincipal user, IProjectGit git, CancellationToken ct) =>
            Handle(async () =>
            {
                await git.PushAsync(user.AccountId(), id, ct);
                return TypedResults.NoContent();
            }))
            .WithSummary("Sends your commits to the remote; refused (409) when the remote has commits you do not: pull first.");
    }

    public sealed record CredentialBody([property: Description("The user name for the host (many hosts accept any with a token).")] string? Username, string Token);

    public sealed record ImportBody(string Url, [property: Description("The project's name; the repository's by default.")] string? Name);

    public sealed record UrlBody(string Url);

    public sealed record CommitBody(string Message);

    public sealed record PullBody(GitConflictChoice? OnConflict);

    private static async Task<IResult> Handle(Func<Task<IResult>> operation)
    {
        try
        {
            return await operation();
        }
        catch (GitProblemException e)
        {
            var status = e.Problem switch
            {
                GitProblem.Unauthorized or GitProblem.AddressNotAllowed => StatusCodes.Status403Forbidden,
                GitProblem.NotFound => StatusCodes.Status404NotFound,
                GitProblem.RejectedPush or GitProblem.Conflict or GitProblem.NothingToCommit => StatusCodes.Status409Conflict,
                GitProblem.Unreachable => StatusCodes.Status502BadGateway,
                GitProblem.TimedOut => StatusCodes.Status504GatewayTimeout,
                GitProblem.TooLarge => StatusCodes.Status413PayloadTooLarge,
                _ => StatusCodes.Status400BadRequest,
            };
            return TypedResults.Problem(e.Message, statusCode: status, title: e.Problem.ToString());
        }
        catch (ProjectNotFoundException e)
        {
            return TypedResults.Problem(e.Message, statusCode: 404, title: "No such project");
        }
        catch (ProjectRefusedException e)
        {
            return TypedResults.Problem(e.Message, statusCode: 400, title: "Refused");
        }
        catch (QuotaExceededException e)
        {
            return RunsApi.Quota(e);
        }
    }
}
