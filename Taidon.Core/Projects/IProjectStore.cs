namespace Taidon.Core.Projects;

/// <summary>A script of a project as stored: its checked path, its text, and when it last changed.</summary>
public sealed record ProjectScript(string Path, string Content, DateTimeOffset UpdatedAt);

/// <summary>How much a project may hold; a refusal names the limit.</summary>
public sealed record ProjectLimits(long MaxScriptBytes = 8L * 1024 * 1024, long MaxProjectBytes = 64L * 1024 * 1024, int MaxScripts = 500);

/// <summary>A project refused a change: what was wrong and what to do.</summary>
public sealed class ProjectRefusedException(string message) : Exception(message);

/// <summary>
/// The scripts of a project, kept in a folder per account and project (the source of truth). Every
/// save is atomic (written beside, then renamed), so a crash never leaves half a script; paths are
/// checked by <see cref="ProjectPath"/>, and nothing reaches outside the project's folder.
/// </summary>
public interface IProjectStore
{
    /// <summary>The project's scripts in chain order (an empty list for a project with none).</summary>
    Task<IReadOnlyList<ProjectScript>> ReadAsync(string accountId, Guid projectId, CancellationToken cancellationToken);

    /// <summary>Creates or replaces a script; throws <see cref="ProjectRefusedException"/> for a bad path or a size limit.</summary>
    Task<ProjectScript> SaveAsync(string accountId, Guid projectId, string path, string content, CancellationToken cancellationToken);

    Task RenameAsync(string accountId, Guid projectId, string path, string newPath, CancellationToken cancellationToken);

    /// <summary>Removes a script; one that does not exist is already removed.</summary>
    Task DeleteAsync(string accountId, Guid projectId, string path, CancellationToken cancellationToken);

    /// <summary>Removes the whole project folder.</summary>
    Task DeleteProjectAsync(string accountId, Guid projectId, CancellationToken cancellationToken);

    /// <summary>Removes every project folder of an account (the account is being deleted).</summary>
    Task DeleteAccountAsync(string accountId, CancellationToken cancellationToken);
}
