using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Taidon.Core.Audit;
using Taidon.Core.Projects;
using Taidon.Core.Quotas;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Persistence.Records;
using Taidon.Infrastructure.Quotas;

namespace Taidon.Infrastructure.Projects;

/// <summary>Settings of <c>Taidon:Projects</c>, the defaults until quotas (the admin pages) set others.</summary>
public sealed class ProjectOptions
{
    public const string SectionName = "Taidon:Projects";

    [Range(1, 1000, ErrorMessage = "Taidon:Projects:MaxPerAccount must be between 1 and 1000.")]
    public int MaxPerAccount { get; set; } = 20;

    [Range(1024, 1L << 30, ErrorMessage = "Taidon:Projects:MaxScriptBytes must be between 1024 and 1073741824.")]
    public long MaxScriptBytes { get; set; } = 8L * 1024 * 1024;

    [Range(1024, 1L << 34, ErrorMessage = "Taidon:Projects:MaxProjectBytes must be between 1024 and 17179869184.")]
    public long MaxProjectBytes { get; set; } = 64L * 1024 * 1024;

    [Range(1, 100_000, ErrorMessage = "Taidon:Projects:MaxScripts must be between 1 and 100000.")]
    public int MaxScripts { get; set; } = 500;

    public ProjectLimits ToLimits() => new(MaxScriptBytes, MaxProjectBytes, MaxScripts);
}

public sealed class ProjectNotFoundException(Guid id) : Exception($"You have no project {id}.");

/// <summary>
/// The projects of an account: records in the control plane, scripts in the project store. Guests have
/// one project; registered accounts as many as the quota allows. Every operation checks ownership: a
/// project of another account does not exist for the caller.
/// </summary>
public sealed class ProjectService(
    IDbContextFactory<ControlPlaneDbContext> contexts,
    IProjectStore store,
    QuotaService quotas,
    IAuditLog audit,
    TimeProvider clock,
    ILogger<ProjectService> logger)
{
    public const int MaxNameLength = 100;
    public const string SampleCourseName = "Taidon Books";

    public async Task<IReadOnlyList<ProjectRecord>> ListAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Projects.AsNoTracking().Where(p => p.OwnerId == ownerId).OrderBy(p => p.Name).ToListAsync(cancellationToken);
    }

    /// <summary>The account's first project; a new account gets the sample course.</summary>
    public async Task<ProjectRecord> DefaultAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var first = await db.Projects.AsNoTracking().Where(p => p.OwnerId == ownerId).OrderBy(p => p.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        return first ?? await CreateAsync(ownerId, SampleCourseName, SampleCourse.Files.Select(f => (f.Path, f.Text)), cancellationToken);
    }

    /// <summary>Creates a project with the given scripts (none for an empty project).</summary>
    public async Task<ProjectRecord> CreateAsync(string ownerId, string name, IEnumerable<(string Path, string Content)> scripts, CancellationToken cancellationToken)
    {
        var checkedName = CheckName(name);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var owner = await db.Users.AsNoTracking().SingleAsync(u => u.Id == ownerId, cancellationToken);
        var count = await db.Projects.CountAsync(p => p.OwnerId == ownerId, cancellationToken);
        var allowed = (await quotas.ForAccountAsync(ownerId, cancellationToken)).Effective.ProjectsPerAccount;
        if (count >= allowed)
        {
            throw new QuotaExceededException("projects per account", owner.IsAnonymous && allowed <= 1
                ? "A guest account has one project. Register (your work is kept) to have more."
                : $"Your account may have {allowed} projects and has {count}; delete one before creating another.");
        }

        if (await db.Projects.AnyAsync(p => p.OwnerId == ownerId && p.Name == checkedName, cancellationToken))
        {
            throw new ProjectRefusedException($"You have a project named '{checkedName}' already; choose another name.");
        }

        var now = clock.GetUtcNow();
        var record = new ProjectRecord { Id = Guid.CreateVersion7(now), OwnerId = ownerId, Name = checkedName, CreatedAt = now, UpdatedAt = now };
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

        db.Projects.Add(record);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Created project {ProjectId} for account {AccountId}", record.Id, ownerId);
        return record;
    }

    public async Task<(ProjectRecord Project, IReadOnlyList<ProjectScript> Scripts)> OpenAsync(string ownerId, Guid projectId, CancellationToken cancellationToken)
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

    public async Task<ProjectRecord> RenameAsync(string ownerId, Guid projectId, string name, CancellationToken cancellationToken)
    {
        var checkedName = CheckName(name);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var project = await db.Projects.SingleOrDefaultAsync(p => p.Id == projectId && p.OwnerId == ownerId, cancellationToken)
            ?? throw new ProjectNotFoundException(projectId);
        if (await db.Projects.AnyAsync(p => p.OwnerId == ownerId && p.Name == checkedName && p.Id != projectId, cancellationToken))
        {
            throw new ProjectRefusedException($"You have a project named '{checkedName}' already; choose another name.");
        }

        project.Name = checkedName;
        project.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return project;
    }

    /// <summary>A copy of a project under a new name (quota checked).</summary>
    public async Task<ProjectRecord> DuplicateAsync(string ownerId, Guid projectId, string name, CancellationToken cancellationToken)
    {
        var (_, scripts) = await OpenAsync(ownerId, projectId, cancellationToken);
        return await CreateAsync(ownerId, name, scripts.Select(s => (s.Path, s.Content)), cancellationToken);
    }

    public async Task DeleteAsync(string ownerId, Guid projectId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var project = await db.Projects.SingleOrDefaultAsync(p => p.Id == projectId && p.OwnerId == ownerId, cancellationToken)
            ?? throw new ProjectNotFoundException(projectId);
        db.Projects.Remove(project);
        await db.SaveChangesAsync(cancellationToken);
        await store.DeleteProjectAsync(ownerId, projectId, cancellationToken);
        logger.LogInformation("Deleted project {ProjectId} of account {AccountId}", projectId, ownerId);
        await audit.RecordAsync(new AuditEvent(AuditActions.ProjectDelete, ownerId, "project:" + projectId, AuditOutcome.Succeeded, project.Name), CancellationToken.None);
    }

    /// <summary>One of the account's projects (another account's is not found).</summary>
    public Task<ProjectRecord> GetAsync(string ownerId, Guid projectId, CancellationToken cancellationToken) => FindAsync(ownerId, projectId, cancellationToken);

    private async Task<ProjectRecord> FindAsync(string ownerId, Guid projectId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Projects.AsNoTracking().SingleOrDefaultAsync(p => p.Id == projectId && p.OwnerId == ownerId, cancellationToken)
            ?? throw new ProjectNotFoundException(projectId);
    }

    private async Task TouchAsync(Guid projectId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        await db.Projects.Where(p => p.Id == projectId).ExecuteUpdateAsync(p => p.SetProperty(x => x.UpdatedAt, now), cancellationToken);
    }

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
