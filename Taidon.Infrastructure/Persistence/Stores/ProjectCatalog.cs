using Microsoft.EntityFrameworkCore;
using Npgsql;
using Taidon.Core.Projects;

namespace Taidon.Infrastructure.Persistence.Stores;

/// <summary>The projects of each account in the control-plane database.</summary>
public sealed class ProjectCatalog(IDbContextFactory<ControlPlaneDbContext> contexts) : IProjectCatalog
{
    public async Task<IReadOnlyList<Project>> OfOwnerAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Projects.AsNoTracking().Where(p => p.OwnerId == ownerId).OrderBy(p => p.Name).ToListAsync(cancellationToken);
    }

    public async Task<Project?> FirstAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Projects.AsNoTracking().Where(p => p.OwnerId == ownerId).OrderBy(p => p.CreatedAt).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<Project?> FindAsync(string ownerId, Guid projectId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Projects.AsNoTracking().SingleOrDefaultAsync(p => p.Id == projectId && p.OwnerId == ownerId, cancellationToken);
    }

    public async Task<int> CountAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Projects.CountAsync(p => p.OwnerId == ownerId, cancellationToken);
    }

    public async Task<bool> NameTakenAsync(string ownerId, string name, Guid? except, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Projects.AnyAsync(p => p.OwnerId == ownerId && p.Name == name && p.Id != except, cancellationToken);
    }

    public async Task AddAsync(Project project, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Projects.Add(project);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // The same name saved a moment earlier by another request of the account (another tab, a sign-in).
            throw new ProjectRefusedException($"You have a project named '{project.Name}' already; choose another name.");
        }
    }

    public async Task UpdateAsync(Project project, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Projects.Update(project);
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task RemoveAsync(Project project, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Projects.Where(p => p.Id == project.Id && p.OwnerId == project.OwnerId).ExecuteDeleteAsync(cancellationToken);
    }

    public async Task TouchAsync(Guid projectId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Projects.Where(p => p.Id == projectId).ExecuteUpdateAsync(p => p.SetProperty(x => x.UpdatedAt, now), cancellationToken);
    }
}
