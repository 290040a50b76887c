using Microsoft.Extensions.Localization;
using Taidon.Core.Git;
using Taidon.Core.Projects;
using Taidon.Core.Quotas;
using Taidon.Web.Features.Localization;

namespace Taidon.Web.Features.Workspace;

/// <summary>What the address asks the workspace to open: a project, a script in it, a course link.</summary>
public sealed record WorkspaceAddress(Guid? Project, string? Script, string? Git);

/// <summary>
/// The workspace opened (no session while a course link waits for the circuit), or why it could not be;
/// a course link to offer as a new project when the student has projects already.
/// </summary>
public sealed record OpenedWorkspace(WorkspaceSession? Session, string? Problem = null, string? OfferImport = null);

/// <summary>Opens the workspace on the project the address names (or a course link's copy, or the account's first project).</summary>
public sealed class ProjectOpening(IWorkspaceBackend backend, IStringLocalizer<Strings> t)
{
    /// <summary>
    /// Opens what the address names; <paramref name="interactive"/>: the page runs in a circuit (not in the
    /// prerender of a first request). A visitor without an account (<paramref name="owner"/> empty) sees the
    /// project a new account starts with, kept in the page until they edit or run.
    /// </summary>
    public async Task<OpenedWorkspace> OpenAsync(string owner, WorkspaceAddress address, bool interactive)
    {
        if (owner.Length == 0)
        {
            var (name, scripts) = backend.StarterProject();
            var visit = new WorkspaceSession("", Guid.Empty, name);
            visit.Load(scripts);
            visit.Current = Choose(visit, address);
            return new(visit);
        }

        try
        {
            var (project, offerImport, linkProblem) = await ChooseAsync(owner, address, interactive);
            if (project is null)
            {
                return new(null);
            }

            var session = new WorkspaceSession(owner, project.Id, project.Name) { RunProblem = linkProblem };
            session.Load(await backend.ScriptsAsync(owner, project.Id));
            session.Current = Choose(session, address);
            // The schema is read once the workspace shows (InstanceActions.DescribeAsync): a run in progress
            // holds the instance, and the page must not wait for it.
            session.Instance = (await backend.InstancesAsync(owner)).FirstOrDefault();
            session.History = await backend.HistoryAsync(owner, WorkspaceSession.HistoryShown);
            session.IdleMinutes = await backend.IdleMinutesAsync(owner);
            return new(session, OfferImport: offerImport);
        }
        catch (Exception e) when (e is ProjectRefusedException or QuotaExceededException or InstallationAtCapacityException)
        {
            return new(null, e.Message);
        }
    }

    /// <summary>The script to open: the address's, else the first exercise (a test), else the first script.</summary>
    private static OpenScript? Choose(WorkspaceSession session, WorkspaceAddress address) =>
        session.Find(address.Script ?? "")
        ?? session.Scripts.FirstOrDefault(s => s.Path.StartsWith(WorkspaceSession.TestFolder, StringComparison.Ordinal))
        ?? session.Scripts.FirstOrDefault();

    /// <summary>
    /// The project to open: the one in the address, else a course link's copy for a new student (their
    /// first project), else the account's first project (the sample course for a new account). Null
    /// while a course link waits for the circuit: the prerender of a first request never reaches a
    /// remote, so a crawler or a scripted stream of cookieless requests cannot make the server fetch.
    /// </summary>
    private async Task<(Project? Project, string? OfferImport, string? Problem)> ChooseAsync(string owner, WorkspaceAddress address, bool interactive)
    {
        var projects = await backend.ProjectsAsync(owner);
        if (address.Project is { } id && projects.FirstOrDefault(p => p.Id == id) is { } named)
        {
            return (named, null, null);
        }

        string? offer = null, problem = null;
        if (address.Git is { Length: > 0 } link)
        {
            if (projects.Count == 0 && !interactive)
            {
                return (null, null, null);
            }

            if (projects.Count == 0)
            {
                try
                {
                    return (await backend.ImportAsync(owner, link), null, null);
                }
                catch (GitProblemException e)
                {
                    problem = t["The course link could not be opened: {0}", e.Message];
                }
            }
            else
            {
                offer = link;
            }
        }

        return (await backend.DefaultProjectAsync(owner), offer, problem);
    }
}
