using Taidon.Core.Projects;

namespace Taidon.Core.Git;

/// <summary>
/// A project as a Git repository (the port; LibGit2Sharp implements it): import, status, commit, pull,
/// push, connect. Every operation is the owner's alone, bounded in size and time, and audited; a
/// remote goes through the address policy (<see cref="GitAddressPolicy"/>) and fails with a
/// <see cref="GitProblemException"/> that says what to do.
/// </summary>
public interface IProjectGit
{
    /// <summary>Creates a project from a repository: its default branch, checked out with links as plain files.</summary>
    Task<Project> ImportAsync(string ownerId, string url, string? name, CancellationToken cancellationToken);

    /// <summary>The project's branch, remote, changes and how far it is ahead or behind; null when it is not a repository.</summary>
    Task<GitStatus?> StatusAsync(string ownerId, Guid projectId, CancellationToken cancellationToken);

    /// <summary>Commits every change of the project (added, changed, deleted scripts) with the student as author; returns the commit.</summary>
    Task<string> CommitAsync(string ownerId, Guid projectId, string message, CancellationToken cancellationToken);

    /// <summary>
    /// Brings in the remote's commits. Local changes are committed first ("Work before pull"), so a pull
    /// never loses them. Lines changed on both sides stop the pull (nothing changes; the files are named),
    /// unless the student chose to keep theirs or take the remote's for those lines.
    /// </summary>
    Task<GitPullResult> PullAsync(string ownerId, Guid projectId, GitConflictChoice choice, CancellationToken cancellationToken);

    /// <summary>Sends the project's commits to its remote (the branch is created there on the first push).</summary>
    Task PushAsync(string ownerId, Guid projectId, CancellationToken cancellationToken);

    /// <summary>Makes a project a repository with a remote (for a project created here that is to be published).</summary>
    Task ConnectAsync(string ownerId, Guid projectId, string url, CancellationToken cancellationToken);
}
