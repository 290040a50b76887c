namespace Taidon.Core.Projects;

/// <summary>Where the control plane keeps the projects of each account (the port; the scripts are the <see cref="IProjectStore"/>'s).</summary>
public interface IProjectCatalog
{
    /// <summary>The owner's projects by name.</summary>
    Task<IReadOnlyList<Project>> OfOwnerAsync(string ownerId, CancellationToken cancellationToken);

    /// <summary>The owner's oldest project, or null.</summary>
    Task<Project?> FirstAsync(string ownerId, CancellationToken cancellationToken);

    /// <summary>One of the owner's projects; another account's is null.</summary>
    Task<Project?> FindAsync(string ownerId, Guid projectId, CancellationToken cancellationToken);

    Task<int> CountAsync(string ownerId, CancellationToken cancellationToken);

    /// <summary>Whether the owner has another project (not <paramref name="except"/>) of this name.</summary>
    Task<bool> NameTakenAsync(string ownerId, string name, Guid? except, CancellationToken cancellationToken);

    Task AddAsync(Project project, CancellationToken cancellationToken);

    Task UpdateAsync(Project project, CancellationToken cancellationToken);

    Task RemoveAsync(Project project, CancellationToken cancellationToken);

    /// <summary>Marks the project changed now.</summary>
    Task TouchAsync(Guid projectId, DateTimeOffset now, CancellationToken cancellationToken);
}
