namespace Taidon.Core.Git;

/// <summary>A Git operation refused or failed, said so that the student knows what to do; the project is as it was.</summary>
public sealed class GitProblemException(GitProblem problem, string message) : Exception(message)
{
    public GitProblem Problem { get; } = problem;
}

/// <summary>What went wrong with a remote, in the categories a student can act on.</summary>
public enum GitProblem
{
    BadUrl,
    AddressNotAllowed,
    Unreachable,
    TimedOut,
    NotFound,
    Unauthorized,
    RejectedPush,
    TooLarge,
    Conflict,
    NotARepository,
    NothingToCommit,
    Other,
}

/// <summary>A project's Git state: its branch and remote, the files changed since the last commit, and how far it is from the remote.</summary>
public sealed record GitStatus(string Branch, string? RemoteUrl, IReadOnlyList<GitChange> Changes, int Ahead, int Behind, string? LastCommit);

public sealed record GitChange(string Path, string State);

/// <summary>How a pull went: what came in, and, on a conflict, the files both sides changed (nothing was changed then).</summary>
public sealed record GitPullResult(string Outcome, int Incoming, IReadOnlyList<string> Conflicts);

/// <summary>How to settle the lines both sides changed when pulling: stop and report, keep the student's, or take the remote's.</summary>
public enum GitConflictChoice
{
    Stop,
    KeepMine,
    TakeTheirs,
}

/// <summary>
/// The access tokens of an account, per remote host: saved once, never shown again, used only for that
/// account's projects. The embedded runtime keeps them encrypted in the control plane; the Kubernetes
/// runtime keeps them as Secrets.
/// </summary>
public interface IGitCredentialStore
{
    Task SaveAsync(string accountId, string host, string username, string token, CancellationToken cancellationToken);

    Task<GitCredential?> FindAsync(string accountId, string host, CancellationToken cancellationToken);

    /// <summary>The hosts the account has a token for (never the tokens).</summary>
    Task<IReadOnlyList<GitCredentialInfo>> ListAsync(string accountId, CancellationToken cancellationToken);

    Task DeleteAsync(string accountId, string host, CancellationToken cancellationToken);

    /// <summary>Forgets every token of an account (the account is being deleted).</summary>
    Task DeleteAccountAsync(string accountId, CancellationToken cancellationToken);
}

public sealed record GitCredential(string Username, string Token);

public sealed record GitCredentialInfo(string Host, string Username, DateTimeOffset SavedAt);
