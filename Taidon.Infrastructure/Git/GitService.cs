using Taidon.Core.Projects;
using System.ComponentModel.DataAnnotations;
using LibGit2Sharp;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Taidon.Core.Audit;
using Taidon.Core.Git;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Projects;

namespace Taidon.Infrastructure.Git;

/// <summary>Settings of <c>Taidon:Git</c>.</summary>
public sealed class GitOptions : IValidatableObject
{
    public const string SectionName = "Taidon:Git";

    /// <summary>The most a clone or pull may download; a bigger repository is refused.</summary>
    [Range(1L << 20, 1L << 36, ErrorMessage = "Taidon:Git:MaxRepositoryBytes must be between 1 MiB and 64 GiB.")]
    public long MaxRepositoryBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>The most a Git operation's network part (import, pull, push) may take.</summary>
    [Range(1, 3600, ErrorMessage = "Taidon:Git:TimeoutSeconds must be between 1 and 3600.")]
    public int TimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// Hosts reached whatever their address (<c>host</c> or <c>host:port</c>): an on-premises Git server in
    /// a private network or the cluster. Every other host must have public addresses only.
    /// </summary>
    public string[] AllowedHosts { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        AllowedHosts.Select(GitAllowedHosts.Problem).OfType<string>()
            .Select(problem => new ValidationResult($"Taidon:Git:AllowedHosts: {problem}.", [nameof(AllowedHosts)]));
}

/// <summary>
/// A project as a Git repository, on request: import from a URL, status, commit, pull (local work is
/// committed first and never thrown away; a conflict is reported, or settled as the student chooses),
/// push. Remotes are reached over HTTP(S) with the account's own token for that host. Links in a
/// repository are checked out as plain files (core.symlinks off), so none can lead outside the project.
/// </summary>
public sealed class GitService(
    ProjectService projects,
    FileProjectStore store,
    IGitCredentialStore credentials,
    IDbContextFactory<ControlPlaneDbContext> contexts,
    IAuditLog audit,
    GitAddressGuard guard,
    IOptions<GitOptions> options,
    IOptions<ProjectOptions> projectOptions,
    ILogger<GitService> logger) : IProjectGit
{
    private const string Origin = "origin";

    // libgit2's own HTTP would connect wherever a name leads and follow redirects unchecked: the app's takes over.
    static GitService() => GitHttpTransport.Register();

    /// <summary>Creates a project from a repository: its default branch, checked out with links as plain files.</summary>
    public async Task<Project> ImportAsync(string ownerId, string url, string? name, CancellationToken cancellationToken)
    {
        var remote = CheckUrl(url);
        var credential = await CredentialAsync(ownerId, remote, cancellationToken);
        var project = await projects.CreateAsync(ownerId, string.IsNullOrWhiteSpace(name) ? NameFrom(remote) : name, [], cancellationToken);
        try
        {
            var folder = store.FolderOf(ownerId, project.Id);
            Directory.CreateDirectory(folder);
            await RemoteAsync(remote, credential, session => Clone(folder, remote, session), cancellationToken);
            await AuditAsync(ownerId, AuditActions.GitClone, project.Id, AuditOutcome.Succeeded, Safe(remote), cancellationToken);
            return project;
        }
        catch (Exception e)
        {
            await projects.DeleteAsync(ownerId, project.Id, CancellationToken.None);
            var problem = e as GitProblemException ?? Translate(e, remote);
            await AuditAsync(ownerId, AuditActions.GitClone, project.Id, AuditOutcome.Failed, $"{Safe(remote)}: {problem.Problem}", CancellationToken.None);
            throw problem;
        }
    }

    public async Task<GitStatus?> StatusAsync(string ownerId, Guid projectId, CancellationToken cancellationToken)
    {
        var folder = await FolderAsync(ownerId, projectId, cancellationToken);
        if (!Repository.IsValid(folder))
        {
            return null;
        }

        using var repo = new Repository(folder);
        var changes = repo.RetrieveStatus(new StatusOptions { IncludeUntracked = true, RecurseUntrackedDirs = true })
            .Where(e => e.State != FileStatus.Ignored && e.State != FileStatus.Unaltered)
            .Select(e => new GitChange(e.FilePath, Describe(e.State)))
            .ToList();
        var tracking = repo.Head.IsTracking ? repo.Head.TrackingDetails : null;
        return new GitStatus(repo.Head.FriendlyName, repo.Network.Remotes[Origin]?.Url, changes, tracking?.AheadBy ?? 0, tracking?.BehindBy ?? 0,
            repo.Head.Tip is { } tip ? $"{tip.Sha[..8]} {tip.MessageShort}" : null);
    }

    /// <summary>Commits every change of the project (added, changed, deleted scripts) with the student as author.</summary>
    public async Task<string> CommitAsync(string ownerId, Guid projectId, string message, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(message) || message.Length > 4000)
        {
            throw new GitProblemException(GitProblem.Other, "A commit needs a message of 1 to 4000 characters: say what changed.");
        }

        var folder = await RepositoryFolderAsync(ownerId, projectId, cancellationToken);
        var author = await AuthorAsync(ownerId, cancellationToken);
        using var repo = new Repository(folder);
        var sha = CommitAll(repo, message.Trim(), author) ?? throw new GitProblemException(GitProblem.NothingToCommit, "Nothing changed since the last commit.");
        await AuditAsync(ownerId, AuditActions.GitCommit, projectId, AuditOutcome.Succeeded, sha[..8], cancellationToken);
        return sha;
    }

    /// <summary>
    /// Brings in the remote's commits. Local changes are committed first ("Work before pull"), so a pull
    /// never loses them. Lines changed on both sides stop the pull (nothing changes; the files are named),
    /// unless the student chose to keep theirs or take the remote's for those lines.
    /// </summary>
    public async Task<GitPullResult> PullAsync(string ownerId, Guid projectId, GitConflictChoice choice, CancellationToken cancellationToken)
    {
        var folder = await RepositoryFolderAsync(ownerId, projectId, cancellationToken);
        var author = await AuthorAsync(ownerId, cancellationToken);
        using var repo = new Repository(folder);
        var remote = repo.Network.Remotes[Origin] ?? throw new GitProblemException(GitProblem.NotARepository, "The project has no remote to pull from.");
        var remoteUri = new Uri(remote.Url);
        var credential = await CredentialAsync(ownerId, remoteUri, cancellationToken);
        try
        {
            var before = Upstream(repo);
            var (trackingRef, previousTip) = (before?.CanonicalName, before?.Tip?.Sha);
            await RemoteAsync(remoteUri, credential, session => Fetch(repo, remote, session), cancellationToken);
            var upstream = Upstream(repo) ?? throw new GitProblemException(GitProblem.NotFound, "The remote has no branch to pull yet.");
            try
            {
                CheckTree(repo, upstream.Tip.Tree);
            }
            catch (GitProblemException)
            {
                // Nothing half-made: the remote-tracking branch goes back to where it was.
                if (trackingRef is not null && previousTip is not null)
                {
                    repo.Refs.UpdateTarget(trackingRef, previousTip);
                }
                else
                {
                    repo.Refs.Remove(upstream.CanonicalName);
                }

                throw;
            }

            if (repo.Head.Tip is not null && repo.Head.Tip.Sha == upstream.Tip.Sha)
            {
                return new GitPullResult("up to date", 0, []);
            }

            CommitAll(repo, "Work before pull", author);
            var incoming = repo.Head.Tip is null ? upstream.Commits.Count() : repo.ObjectDatabase.CalculateHistoryDivergence(repo.Head.Tip, upstream.Tip).BehindBy ?? 0;
            if (repo.Head.Tip is not null)
            {
                var trial = repo.ObjectDatabase.MergeCommits(repo.Head.Tip, upstream.Tip, new MergeTreeOptions());
                if (trial.Status == MergeTreeStatus.Conflicts && choice == GitConflictChoice.Stop)
                {
                    var files = trial.Conflicts.Select(c => (c.Ours ?? c.Theirs ?? c.Ancestor).Path).Distinct().Order(StringComparer.Ordinal).ToList();
                    await AuditAsync(ownerId, AuditActions.GitPull, projectId, AuditOutcome.Refused, "conflict in " + string.Join(", ", files), cancellationToken);
                    return new GitPullResult("conflict", incoming, files);
                }
            }

            var result = repo.Merge(upstream.Tip, author, new MergeOptions
            {
                FastForwardStrategy = FastForwardStrategy.Default,
                MergeFileFavor = choice switch
                {
                    GitConflictChoice.KeepMine => MergeFileFavor.Ours,
                    GitConflictChoice.TakeTheirs => MergeFileFavor.Theirs,
                    _ => MergeFileFavor.Normal,
                },
                FailOnConflict = true,
            });
            var outcome = result.Status switch
            {
                MergeStatus.FastForward => "fast-forward",
                MergeStatus.NonFastForward => "merged",
                MergeStatus.UpToDate => "up to date",
                _ => "conflict",
            };
            await AuditAsync(ownerId, AuditActions.GitPull, projectId, AuditOutcome.Succeeded, $"{outcome}, {incoming} commits", cancellationToken);
            return new GitPullResult(outcome, incoming, []);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var problem = e as GitProblemException ?? Translate(e, remoteUri);
            await AuditAsync(ownerId, AuditActions.GitPull, projectId, AuditOutcome.Failed, problem.Problem.ToString(), CancellationToken.None);
            throw problem;
        }
    }

    /// <summary>Sends the project's commits to its remote (the branch is created there on the first push).</summary>
    public async Task PushAsync(string ownerId, Guid projectId, CancellationToken cancellationToken)
    {
        var folder = await RepositoryFolderAsync(ownerId, projectId, cancellationToken);
        using var repo = new Repository(folder);
        var remote = repo.Network.Remotes[Origin] ?? throw new GitProblemException(GitProblem.NotARepository, "The project has no remote to push to.");
        if (repo.Head.Tip is null)
        {
            throw new GitProblemException(GitProblem.NothingToCommit, "There is no commit to push yet: commit first.");
        }

        var remoteUri = new Uri(remote.Url);
        var credential = await CredentialAsync(ownerId, remoteUri, cancellationToken);
        string? rejected = null;
        var push = new PushOptions { OnPushStatusError = error => rejected = error.Message };
        try
        {
            var branch = repo.Head.CanonicalName;
            await RemoteAsync(remoteUri, credential, _ => repo.Network.Push(remote, $"{branch}:{branch}", push), cancellationToken);
            if (rejected is not null)
            {
                // The remote's words stay in the log: a remote may say anything.
                logger.LogWarning("A push to {Remote} was refused: {Reason}", Safe(remoteUri), rejected);
                throw new GitProblemException(GitProblem.RejectedPush, "The remote refused the push. Pull first, then push again.");
            }

            if (!repo.Head.IsTracking)
            {
                repo.Branches.Update(repo.Head, b => b.Remote = Origin, b => b.UpstreamBranch = branch);
            }

            await AuditAsync(ownerId, AuditActions.GitPush, projectId, AuditOutcome.Succeeded, repo.Head.Tip.Sha[..8], cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var problem = e as GitProblemException ?? Translate(e, remoteUri);
            await AuditAsync(ownerId, AuditActions.GitPush, projectId, AuditOutcome.Failed, problem.Problem.ToString(), CancellationToken.None);
            throw problem;
        }
    }

    /// <summary>Makes a project a repository with a remote (for a project created here that is to be published).</summary>
    public async Task ConnectAsync(string ownerId, Guid projectId, string url, CancellationToken cancellationToken)
    {
        var remote = CheckUrl(url);
        var folder = await FolderAsync(ownerId, projectId, cancellationToken);
        Directory.CreateDirectory(folder);
        if (!Repository.IsValid(folder))
        {
            Repository.Init(folder);
        }

        using var repo = new Repository(folder);
        repo.Config.Set("core.symlinks", false);
        if (repo.Network.Remotes[Origin] is null)
        {
            repo.Network.Remotes.Add(Origin, remote.ToString());
        }
        else
        {
            repo.Network.Remotes.Update(Origin, r => r.Url = remote.ToString());
        }

        if (repo.Head.Tip is null)
        {
            repo.Refs.UpdateTarget("HEAD", "refs/heads/main");
        }

        await AuditAsync(ownerId, AuditActions.GitConnect, projectId, AuditOutcome.Succeeded, Safe(remote), cancellationToken);
    }

    private void Clone(string folder, Uri remote, GitRemoteSession session)
    {
        Repository.Init(folder);
        using var repo = new Repository(folder);
        repo.Config.Set("core.symlinks", false);
        var origin = repo.Network.Remotes.Add(Origin, remote.ToString());
        Fetch(repo, origin, session);
        var references = repo.Network.ListReferences(origin);
        var head = references.FirstOrDefault(r => r.CanonicalName == "HEAD")?.TargetIdentifier ?? "refs/heads/main";
        var name = head.StartsWith("refs/heads/", StringComparison.Ordinal) ? head["refs/heads/".Length..] : "main";
        repo.Refs.UpdateTarget("HEAD", "refs/heads/" + name);
        if (repo.Branches[$"{Origin}/{name}"] is { } upstream)
        {
            CheckTree(repo, upstream.Tip.Tree);
            var local = repo.CreateBranch(name, upstream.Tip);
            repo.Branches.Update(local, b => b.Remote = Origin, b => b.UpstreamBranch = "refs/heads/" + name);
            Commands.Checkout(repo, local, new CheckoutOptions { CheckoutModifiers = CheckoutModifiers.Force });
        }
    }

    /// <summary>Fetches; the download's bytes are bounded by the transport, its time (indexing too) by the session's deadline.</summary>
    private static void Fetch(Repository repo, Remote remote, GitRemoteSession session)
    {
        var fetch = new FetchOptions { OnTransferProgress = _ => !session.Token.IsCancellationRequested };
        Commands.Fetch(repo, remote.Name, remote.FetchRefSpecs.Select(r => r.Specification), fetch, null);
    }

    /// <summary>
    /// Runs a Git operation that reaches the remote, in a session the transport takes the address
    /// check, the token, the download bound and the deadline from. A failure comes out in the
    /// transport's plain words; libgit2's own text goes to the log only.
    /// </summary>
    private async Task RemoteAsync(Uri remote, GitCredential? credential, Action<GitRemoteSession> work, CancellationToken cancellationToken)
    {
        var git = options.Value;
        using var session = new GitRemoteSession(remote, credential, guard, git.MaxRepositoryBytes, TimeSpan.FromSeconds(git.TimeoutSeconds), cancellationToken);
        try
        {
            await Task.Run(() =>
            {
                session.Enter();
                work(session);
            }, cancellationToken);
        }
        catch (Exception e) when (e is not GitProblemException && !cancellationToken.IsCancellationRequested)
        {
            if (session.Failure is null && !session.TimedOut)
            {
                throw;
            }

            logger.LogWarning("Git with {Remote} failed: {Kind}: {Message}", Safe(remote), e.GetType().Name, e.Message);
            throw session.Failure ?? new GitProblemException(GitProblem.TimedOut,
                $"The repository host took longer than {git.TimeoutSeconds} s, the most a Git operation may take.");
        }
    }

    /// <summary>
    /// Refuses a commit whose files would not fit the project's limits (checked out, not downloaded):
    /// scripts and their sizes as a save would, and at most as many other files again.
    /// </summary>
    private void CheckTree(Repository repo, Tree tree)
    {
        var limits = projectOptions.Value;
        long bytes = 0;
        var (scripts, files) = (0, 0);
        var pending = new Stack<(string Prefix, Tree Tree)>([("", tree)]);
        while (pending.Count > 0)
        {
            var (prefix, current) = pending.Pop();
            foreach (var entry in current)
            {
                if (entry.TargetType == TreeEntryTargetType.Tree)
                {
                    pending.Push((prefix + entry.Name + "/", (Tree)entry.Target));
                    continue;
                }

                if (entry.TargetType != TreeEntryTargetType.Blob)
                {
                    continue;
                }

                var size = repo.ObjectDatabase.RetrieveObjectMetadata(entry.Target.Id).Size;
                bytes += size;
                files++;
                var isScript = entry.Name.EndsWith(".sql", StringComparison.OrdinalIgnoreCase);
                scripts += isScript ? 1 : 0;
                if (isScript && size > limits.MaxScriptBytes)
                {
                    throw new GitProblemException(GitProblem.TooLarge,
                        $"The repository's {prefix}{entry.Name} has {Megabytes(size)}; a script may have at most {Megabytes(limits.MaxScriptBytes)}. Nothing was changed.");
                }

                if (scripts > limits.MaxScripts || files > 2 * limits.MaxScripts)
                {
                    throw new GitProblemException(GitProblem.TooLarge,
                        $"The repository has more than {limits.MaxScripts} scripts (or {2 * limits.MaxScripts} files), the most a project may have. Nothing was changed.");
                }

                if (bytes > limits.MaxProjectBytes)
                {
                    throw new GitProblemException(GitProblem.TooLarge,
                        $"The repository's files take more than {Megabytes(limits.MaxProjectBytes)}, the most a project may hold. Nothing was changed.");
                }
            }
        }
    }

    private static string Megabytes(long bytes) => bytes >= 1024 * 1024 ? $"{bytes / (1024.0 * 1024):0.#} MiB" : $"{bytes / 1024.0:0.#} KiB";

    private static Branch? Upstream(Repository repo) =>
        repo.Head.IsTracking ? repo.Head.TrackedBranch : repo.Branches[$"{Origin}/{repo.Head.FriendlyName}"];

    /// <summary>Commits all changes; null when there were none.</summary>
    private static string? CommitAll(Repository repo, string message, Signature author)
    {
        Commands.Stage(repo, "*");
        try
        {
            return repo.Commit(message, author, author).Sha;
        }
        catch (EmptyCommitException)
        {
            return null;
        }
    }

    /// <summary>The account's token for the remote's scheme, host and port (one saved for https never goes to http).</summary>
    private async Task<GitCredential?> CredentialAsync(string ownerId, Uri remote, CancellationToken cancellationToken) =>
        await credentials.FindAsync(ownerId, GitCredentialKey.Of(remote), cancellationToken);

    private async Task<string> FolderAsync(string ownerId, Guid projectId, CancellationToken cancellationToken)
    {
        await projects.GetAsync(ownerId, projectId, cancellationToken);
        return store.FolderOf(ownerId, projectId);
    }

    private async Task<string> RepositoryFolderAsync(string ownerId, Guid projectId, CancellationToken cancellationToken)
    {
        var folder = await FolderAsync(ownerId, projectId, cancellationToken);
        return Repository.IsValid(folder) ? folder : throw new GitProblemException(GitProblem.NotARepository, "The project is not a Git repository: import it from Git, or connect it to a remote first.");
    }

    private async Task<Signature> AuthorAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == ownerId, cancellationToken);
        var email = user.Email ?? $"{user.UserName}@guests.taidon.invalid";
        return new Signature(user.Email ?? user.UserName ?? "Taidon student", email, DateTimeOffset.UtcNow);
    }

    private Task AuditAsync(string ownerId, string action, Guid projectId, AuditOutcome outcome, string detail, CancellationToken cancellationToken) =>
        audit.RecordAsync(new AuditEvent(action, ownerId, "project:" + projectId, outcome, detail), cancellationToken);

    /// <summary>
    /// Only http(s) remotes without credentials in them (tokens are kept apart, never in a URL), on a
    /// host the address policy allows by its name or literal address (its looked-up addresses are
    /// checked again on every connection).
    /// </summary>
    public Uri CheckUrl(string url)
    {
        var remote = CheckUrlSyntax(url);
        try
        {
            guard.CheckUrl(remote);
        }
        catch (GitAddressRefusedException e)
        {
            throw new GitProblemException(GitProblem.AddressNotAllowed, e.Message);
        }

        return remote;
    }

    private static Uri CheckUrlSyntax(string url)
    {
        if (!Uri.TryCreate(url?.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new GitProblemException(GitProblem.BadUrl, $"'{url}' is not a Git URL Taidon can use: write an https:// (or http://) address of a repository.");
        }

        if (uri.UserInfo.Length > 0)
        {
            throw new GitProblemException(GitProblem.BadUrl, "Leave the user name and token out of the URL: save the token for the host instead (it is kept encrypted and never shown).");
        }

        return uri;
    }

    private static string Safe(Uri remote) => remote.GetLeftPart(UriPartial.Path);

    private static string NameFrom(Uri remote)
    {
        var last = remote.AbsolutePath.TrimEnd('/').Split('/').LastOrDefault() ?? "";
        var name = last.EndsWith(".git", StringComparison.OrdinalIgnoreCase) ? last[..^4] : last;
        return string.IsNullOrWhiteSpace(name) ? remote.Host : name;
    }

    private static string Describe(FileStatus state) => state switch
    {
        _ when state.HasFlag(FileStatus.NewInWorkdir) || state.HasFlag(FileStatus.NewInIndex) => "added",
        _ when state.HasFlag(FileStatus.DeletedFromWorkdir) || state.HasFlag(FileStatus.DeletedFromIndex) => "deleted",
        _ when state.HasFlag(FileStatus.RenamedInWorkdir) || state.HasFlag(FileStatus.RenamedInIndex) => "renamed",
        _ when state.HasFlag(FileStatus.Conflicted) => "conflicted",
        _ => "modified",
    };

    /// <summary>A failure the transport did not explain, in words a student can act on; libgit2's text goes to the log only.</summary>
    private GitProblemException Translate(Exception e, Uri remote)
    {
        logger.LogWarning("Git with {Remote} failed: {Kind}: {Message}", Safe(remote), e.GetType().Name, e.Message);
        if (e is NonFastForwardException || e.Message.Contains("non-fast-forward", StringComparison.OrdinalIgnoreCase))
        {
            return new GitProblemException(GitProblem.RejectedPush, "The remote has commits this project does not: pull first, then push again.");
        }

        return new GitProblemException(GitProblem.Other, $"Git failed with {Safe(remote)}; the server's log has the details.");
    }
}
