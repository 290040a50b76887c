using Taidon.Core.Audit;
using Taidon.Core.Snapshots;
using System.ComponentModel;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Taidon.Core.Accounts;
using Taidon.Core.Common;
using Taidon.Core.Instances;
using Taidon.Core.Quotas;
using Hangfire;
using Taidon.Web.Features.Accounts;

namespace Taidon.Web.Features.Admin;

/// <summary>Admin endpoints of the HTTP API; every one is refused to accounts without the Admin role.</summary>
public static class AdminApi
{
    public static void MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/api/v1/admin")
            .WithTags("Admin")
            .RequireAuthorization(DependencyInjection.ApiPolicy, DependencyInjection.AdminPolicy);

        admin.MapGet("/accounts/summary", (IAccountDirectory accounts, CancellationToken ct) => accounts.SummarizeAsync(ct))
            .WithSummary("How many accounts there are, by kind, and how many were active in the last day.");

        // Quotas
        admin.MapGet("/plans", async (QuotaService quotas, CancellationToken ct) =>
            TypedResults.Ok((await quotas.PlansAsync(ct)).Select(p => new PlanResult(p.Name, p.Limits, p.UpdatedAt)).ToList()))
            .WithSummary("The plans: anonymous, registered and custom ones, with their limits.");
        admin.MapPut("/plans/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, Quota limits, ClaimsPrincipal user, QuotaService quotas, CancellationToken ct) =>
            await Refusable(async () => await quotas.SavePlanAsync(name, limits, user.AccountId(), ct)))
            .WithSummary("Creates or changes a plan; new runs use it at once. A limit that is not valid is a 400 naming it.");
        admin.MapDelete("/plans/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ClaimsPrincipal user, QuotaService quotas, CancellationToken ct) =>
            await Refusable(async () => await quotas.DeletePlanAsync(name, user.AccountId(), ct)))
            .WithSummary("Deletes a custom plan no account is on.");

        // Instances
        admin.MapGet("/instances", async (string? owner, InstanceState? state, string? sort, bool? descending, InstanceAdministration instances, CancellationToken ct) =>
            TypedResults.Ok(await instances.ListAsync(new AdminInstanceFilter(owner, state, sort ?? "activity", descending ?? true), ct)))
            .WithSummary($"Every account's instances (at most {InstanceAdministration.MaxListed}), filtered by owner and state, sorted by activity, created, expiry or owner.");
        admin.MapPost("/instances/{id:guid}/stop", async Task<Results<NoContent, ProblemHttpResult>> (Guid id, ClaimsPrincipal user, InstanceAdministration instances, CancellationToken ct) =>
            await Refusable(async () => await instances.StopAsync(id, user.AccountId(), ct)))
            .WithSummary("Stops an instance; its data stays and its owner's next run starts it.");
        admin.MapPost("/instances/{id:guid}/extend", async Task<Results<NoContent, ProblemHttpResult>> (Guid id, ExtendBody body, ClaimsPrincipal user, InstanceAdministration instances, CancellationToken ct) =>
            await Refusable(async () => await instances.ExtendAsync(id, TimeSpan.FromHours(body.Hours), user.AccountId(), ct)))
            .WithSummary("Moves an instance's expiry later by some hours.");
        admin.MapDelete("/instances/{id:guid}", async Task<Results<NoContent, ProblemHttpResult>> (Guid id, ClaimsPrincipal user, InstanceAdministration instances, CancellationToken ct) =>
            await Refusable(async () => await instances.DeleteAsync(id, user.AccountId(), ct)))
            .WithSummary("Deletes an instance with its data.");
        admin.MapPost("/instances/delete", async (DeleteInstancesBody body, ClaimsPrincipal user, InstanceAdministration instances, CancellationToken ct) =>
            TypedResults.Ok(new { deleted = await instances.DeleteManyAsync(new AdminInstanceFilter(body.Owner, body.State), user.AccountId(), ct) }))
            .WithSummary("Deletes every instance a filter finds (owner, state); answers how many.");

        // Snapshot cache
        admin.MapGet("/cache", async (SnapshotCacheAdministration cache, CancellationToken ct) => TypedResults.Ok(await cache.OverviewAsync(ct)))
            .WithSummary("The layers with size, hits, build cost and last use; totals, budget, and the hit ratio over the last hour and day.");
        admin.MapDelete("/cache/layers/{key}", async Task<Results<NoContent, ProblemHttpResult>> (string key, ClaimsPrincipal user, SnapshotCacheAdministration cache, CancellationToken ct) =>
            await Refusable(async () =>
            {
                if (!await cache.EvictAsync(key, user.AccountId(), ct))
                {
                    throw new AccountChangeRefusedException($"Layer {key} is in use or not in the cache.");
                }
            }))
            .WithSummary("Evicts a layer (never the base state, nor one being restored).");
        admin.MapPut("/cache/budget", async Task<Results<NoContent, ProblemHttpResult>> (BudgetBody body, ClaimsPrincipal user, SnapshotCacheAdministration cache, CancellationToken ct) =>
            await Refusable(async () => await cache.SetBudgetAsync(body.Bytes, user.AccountId(), ct)))
            .WithSummary("Sets the cache's size budget in bytes (at least 1 MiB).");
        admin.MapPost("/cache/collect", async (ClaimsPrincipal user, SnapshotCacheAdministration cache, CancellationToken ct) => TypedResults.Ok(await cache.CollectAsync(user.AccountId(), ct)))
            .WithSummary("Runs the cache's garbage collection now.");

        // Accounts
        admin.MapGet("/accounts", async (string? search, bool? anonymous, int? skip, IAccountAdministration accounts, CancellationToken ct) =>
            TypedResults.Ok(await accounts.SearchAsync(search, anonymous, skip ?? 0, ct)))
            .WithSummary($"Accounts whose name, email or id contains the search, newest first, {AccountPages.PageSize} at a time.");
        admin.MapPost("/accounts/{id}/admin", async Task<Results<NoContent, ProblemHttpResult>> (string id, FlagBody body, ClaimsPrincipal user, IAccountAdministration accounts, CancellationToken ct) =>
            await Refusable(async () => await accounts.SetAdminAsync(id, body.Value, user.AccountId(), ct)))
            .WithSummary("Grants or removes the Admin role.");
        admin.MapPost("/accounts/{id}/lock", async Task<Results<NoContent, ProblemHttpResult>> (string id, FlagBody body, ClaimsPrincipal user, IAccountAdministration accounts, CancellationToken ct) =>
            await Refusable(async () => await accounts.SetLockedAsync(id, body.Value, user.AccountId(), ct)))
            .WithSummary("Locks an account (signed out everywhere) or unlocks it.");
        admin.MapPut("/accounts/{id}/plan", async Task<Results<NoContent, ProblemHttpResult>> (string id, AssignBody body, ClaimsPrincipal user, IAccountAdministration accounts, CancellationToken ct) =>
            await Refusable(async () => await accounts.AssignPlanAsync(id, body.Plan, body.Override, user.AccountId(), ct)))
            .WithSummary("Puts an account on a plan (null: by its kind) with an override of single limits.");
        admin.MapDelete("/accounts/{id}", async Task<Results<NoContent, ProblemHttpResult>> (string id, ClaimsPrincipal user, IAccountAdministration accounts, CancellationToken ct) =>
            await Refusable(async () => await accounts.DeleteAsync(id, user.AccountId(), ct)))
            .WithSummary("Deletes an account with its instances and projects.");

        // Lessons
        admin.MapPost("/lessons", PlanLessonAsync)
            .WithSummary("Gets a class's course ready for a lesson: its layers built and an instance started for each student, 15 minutes before the lesson (at once when it starts sooner).");

        // Audit log
        admin.MapGet("/audit", async (string? actor, string? action, string? target, DateTimeOffset? from, DateTimeOffset? to, DateTimeOffset? beforeAt, long? beforeId, int? take, IAuditTrail audit, CancellationToken ct) =>
            TypedResults.Ok(await audit.SearchAsync(new AuditFilter(actor, action, target, from, to), beforeAt is { } at && beforeId is { } id ? new AuditCursor(at, id) : null, take ?? 100, ct)))
            .WithSummary("The audit log, newest first; page with the last row's 'at' and 'id' as beforeAt and beforeId.");
        admin.MapGet("/audit.csv", AuditCsv).WithSummary("The audit log rows a filter finds, as CSV.");

        // The page's export link: the same CSV for an admin signed in with the cookie.
        endpoints.MapGet("/admin/audit.csv", AuditCsv).RequireAuthorization(DependencyInjection.AdminPolicy).ExcludeFromDescription();
    }

    public sealed record PlanResult(string Name, Quota Limits, DateTimeOffset? UpdatedAt);

    public sealed record ExtendBody([property: Description("Hours to add, 1 to 8760.")] int Hours);

    public sealed record DeleteInstancesBody(string? Owner, InstanceState? State);

    public sealed record BudgetBody(long Bytes);

    public sealed record FlagBody(bool Value);

    public sealed record AssignBody(string? Plan, QuotaOverride? Override);

    public sealed record LessonBody(
        [property: Description("The course's Git URL (the one students open), from an allowed host.")] string Course,
        [property: Description("When the lesson starts.")] DateTimeOffset StartsAt,
        [property: Description("How long it lasts, 1 to 600 minutes.")] int Minutes,
        [property: Description("Students expected, 1 to 2000.")] int Students);

    /// <summary>A lesson planned: the warm-up job's id and when it runs, or what the warm-up did when it ran at once.</summary>
    public sealed record LessonResult(string? JobId, DateTimeOffset WarmsAt, LessonReady? Ready);

    private static async Task<Results<Ok<LessonResult>, Accepted<LessonResult>, ProblemHttpResult>> PlanLessonAsync(
        LessonBody body, ClaimsPrincipal user, LessonWarmup warmup, IBackgroundJobClient jobs, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var ends = body.StartsAt.AddMinutes(body.Minutes);
        if (string.IsNullOrWhiteSpace(body.Course) || body.Minutes is < 1 or > 600 || body.Students is < 1 or > LessonWarmup.MaxStudents || ends <= now)
        {
            return TypedResults.Problem($"A lesson needs a course URL, 1 to 600 minutes, 1 to {LessonWarmup.MaxStudents} students, and an end in the future.", statusCode: 400, title: "Invalid lesson");
        }

        var actor = user.AccountId();
        var warmsAt = body.StartsAt - LessonWarmup.Lead;
        if (warmsAt > now)
        {
            var job = jobs.Schedule<LessonWarmup>(w => w.WarmAsync(actor, body.Course, body.Students, ends, CancellationToken.None), warmsAt);
            return TypedResults.Accepted("/admin/jobs", new LessonResult(job, warmsAt, null));
        }

        try
        {
            return TypedResults.Ok(new LessonResult(null, now, await warmup.WarmAsync(actor, body.Course, body.Students, ends, ct)));
        }
        catch (Exception e) when (e is ArgumentException or Taidon.Core.Git.GitProblemException or QuotaExceededException or Taidon.Core.Projects.ProjectRefusedException)
        {
            return TypedResults.Problem(e.Message.Split(" (Parameter")[0], statusCode: 400, title: "The course could not be warmed");
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Refusable(Func<Task> change)
    {
        try
        {
            await change();
            return TypedResults.NoContent();
        }
        catch (Exception e) when (e is QuotaInvalidException or AccountChangeRefusedException or ArgumentException)
        {
            return TypedResults.Problem(e.Message.Split(" (Parameter")[0], statusCode: StatusCodes.Status400BadRequest, title: "Refused");
        }
        catch (InstanceNotFoundException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status404NotFound, title: "No such instance");
        }
    }

    private static async Task AuditCsv(HttpContext context, string? actor, string? action, string? target, DateTimeOffset? from, DateTimeOffset? to, IAuditTrail audit)
    {
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"taidon-audit.csv\"";
        await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false));
        await writer.WriteAsync("at,actor,action,target,outcome,detail,address\r\n");
        await foreach (var row in audit.StreamAsync(new AuditFilter(actor, action, target, from, to), context.RequestAborted))
        {
            await writer.WriteAsync(Csv.Line(
            [
                row.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), row.ActorId, row.Action, row.Target, row.Outcome.ToString(), row.Detail, row.ClientAddress,
            ]));
        }
    }
}
