using Microsoft.Extensions.Logging;
using Taidon.Core.Audit;
using Taidon.Core.Quotas;

namespace Taidon.Core.Projects;

/// <summary>
/// The projects of an account: records in the control plane, scripts in the project store. Guests have
/// one project; registered accounts as many as the quota allows. Every operation checks ownership: a
/// project of another account does not exist for the caller.
/// </summary>
public sealed class ProjectService(
    IProjectCatalog projects,
    IProjectStore store,
    QuotaService quotas,
    IAuditLog audit,
    TimeProvider clock,
    ILogger<ProjectService> logger)
{
    public const int MaxNameLength = 100;
    public const string SampleCourseName = "Taidon Books";

    public Task<IReadOnlyList<Project>> ListAsync(string ownerId, CancellationToken cancellationToken) => projects.OfOwnerAsync(ownerId, cancellationToken);

    /// <summary>The account's first project; a new account gets the sample course (<see cref="Starter"/>).</summary>
    public async Task<Project> DefaultAsync(string ownerId, CancellationToken cancellationToken)
    {
        if (await projects.FirstAsync(ownerId, cancellationToken) is { } first)
        {
            return first;
        }

        try
        {
            return await CreateAsync(ownerId, SampleCourseName, SampleCourse.Files.Select(f => (f.Path, f.Text)), cancellationToken);
        }
        catch (Exception e) when (e is ProjectRefusedException or QuotaExceededException)
        {
            // Another request of the new account made it at the same moment (a guest's sign-in and the page it opens).
            if (await projects.FirstAsync(ownerId, cancellationToken) is { } made)
            {
                return made;
            }

            throw;
        }
    }

    /// <summary>The project a new account starts with, as it will be made (a visitor sees it before having an account).</summary>
    public (string Name, IReadOnlyList<ProjectScript> Scripts) Starter() =>
        (SampleCourseName, [.. SampleCourse.Files.Select(f => new ProjectScript(f.Path, f.Text, DateTimeOffset.UnixEpoch))]);

    /// <summary>Creates a project with the given scripts (none for an empty project).</summary>
    public async Task<Project> CreateAsync(string ownerId, string name, IEnumerable<(string Path, string Content)> scripts, CancellationToken cancellationToken)
    {
        var checkedName = CheckName(name);
        var count = await projects.CountAsync(ownerId, cancellationToken);
        var quota = await quotas.ForAccountAsync(ownerId, cancellationToken);
        var allowed = quota.Effective.ProjectsPerAccount;
        if (count >= allowed)
        {
            throw new QuotaExceededException("projects per account", quota.PlanName == QuotaPlans.Anonymous && allowed <= 1
                ? "A guest account has one project. Register (your work is kept) to have more."
                : $"Your account may have {allowed} projects and has {count}; delete one before creating another.");
        }

        if (await projects.NameTakenAsync(ownerId, checkedName, null, cancellationToken))
        {
            throw new ProjectRefusedException($"You have a project named '{checkedName}' already; choose another name.");
        }

        var now = clock.GetUtcNow();
        var record = new Project { Id = Guid.CreateVersion7(now), OwnerId = ownerId, Name = checkedName, CreatedAt = now, UpdatedAt = now };
        try
        {
            foreach (var (path, content) in scripts)
            {
                await store.SaveAsync(ownerId, record.Id, path, content, cancellationToken);
            }
        }
        catch
        {
            await store.DeleteProjectAsync(ownerId, record.Id, CancellationToken.None);
            throw;
        }

        try
        {
            await projects.AddAsync(record, cancellationToken);
        }
        catch
        {
            await store.DeleteProjectAsync(ownerId, record.Id, CancellationToken.None);
            throw;
        }

        logger.LogInformation("Created project {ProjectId} for account {AccountId}", record.Id, ownerId);
        return record;
    }

    public async Task<(Project Project, IReadOnlyList<ProjectScript> Scripts)> OpenAsync(string ownerId, Guid projectId, CancellationToken cancellationToken)
    {
        var project = await FindAsync(ownerId, projectId, cancellationToken);
        return (project, await store.ReadAsync(ownerId, projectId, cancellationToken));
    }

    public async Task<ProjectScript> SaveScriptAsync(string ownerId, Guid projectId, string path, string content, CancellationToken cancellationToken)
    {
        await FindAsync(ownerId, projectId, cancellationToken);
        var saved = await store.SaveAsync(ownerId, projectId, path, content, cancellationToken);
        await TouchAsync(projectId, cancellationToken);
        return saved;
    }

    public async Task RenameScriptAsync(string ownerId, Guid projectId, string path, string newPath, CancellationToken cancellationToken)
    {
        await FindAsync(ownerId, projectId, cancellationToken);
        await store.RenameAsync(ownerId, projectId, path, newPath, cancellationToken);
        await TouchAsync(projectId, cancellationToken);
    }

    public async Task DeleteScriptAsync(string ownerId, Guid projectId, string path, CancellationToken cancellationToken)
    {
        await FindAsync(ownerId, projectId, cancellationToken);
        await store.DeleteAsync(ownerId, projectId, path, cancellationToken);
        await TouchAsync(projectId, cancellationToken);
    }

    public async Task<Project> RenameAsync(string ownerId, Guid projectId, string name, CancellationToken cancellationToken)
    {
        var checkedName = CheckName(name);
        var project = await FindAsync(ownerId, projectId, cancellationToken);
        if (await projects.NameTakenAsync(ownerId, checkedName, projectId, cancellationToken))
        {
            throw new ProjectRefusedException($"You have a project named '{checkedName}' already; choose another name.");
        }

        project.Name = checkedName;
        project.UpdatedAt = clock.GetUtcNow();
        await projects.UpdateAsync(project, cancellationToken);
        return project;
    }

    /// <summary>A copy of a project under a new name (quota checked).</summary>
    public async Task<Project> DuplicateAsync(string ownerId, Guid projectId, string name, CancellationToken cancellationToken)
    {
        var (_, scripts) = await OpenAsync(ownerId, projectId, cancellationToken);
        return await CreateAsync(ownerId, name, scripts.Select(s => (s.Path, s.Content)), cancellationToken);
    }

    public async Task DeleteAsync(string ownerId, Guid projectId, CancellationToken cancellationToken)
    {
        var project = await FindAsync(ownerId, projectId, cancellationToken);
        await projects.RemoveAsync(project, cancellationToken);
        await store.DeleteProjectAsync(ownerId, projectId, cancellationToken);
        logger.LogInformation("Deleted project {ProjectId} of account {AccountId}", projectId, ownerId);
        await audit.RecordAsync(new AuditEvent(AuditActions.ProjectDelete, ownerId, "project:" + projectId, AuditOutcome.Succeeded, project.Name), CancellationToken.None);
    }

    /// <summary>One of the account's projects (another account's is not found).</summary>
    public Task<Project> GetAsync(string ownerId, Guid projectId, CancellationToken cancellationToken) => FindAsync(ownerId, projectId, cancellationToken);

    private async Task<Project> FindAsync(string ownerId, Guid projectId, CancellationToken cancellationToken)
    {
        return await projects.FindAsync(ownerId, projectId, cancellationToken) ?? throw new ProjectNotFoundException(projectId);
    }

    private Task TouchAsync(Guid projectId, CancellationToken cancellationToken) => projects.TouchAsync(projectId, clock.GetUtcNow(), cancellationToken);

    private static string CheckName(string? name)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            throw new ProjectRefusedException("A project needs a name.");
        }

        if (trimmed.Length > MaxNameLength || trimmed.Any(char.IsControl))
        {
            throw new ProjectRefusedException($"A project's name has at most {MaxNameLength} characters and no control characters.");
        }

        return trimmed;
    }
}
