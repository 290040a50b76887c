using System.Collections.Concurrent;
using System.Text;
using Taidon.Core.Projects;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.Projects;

/// <summary>
/// Projects as folders: <c>&lt;root&gt;/&lt;account&gt;/&lt;project&gt;/init|seed|test|bench/...</c>. A save writes a
/// temporary file beside the script, flushes it and renames it over the old one. Links are never
/// followed: a script, or a folder on the way to it, that is a link (a cloned repository may carry
/// one pointing outside) is skipped when reading and refused when writing.
/// </summary>
public sealed class FileProjectStore(string root, ProjectLimits limits, TimeProvider clock) : IProjectStore
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private static readonly EnumerationOptions Walk = new()
    {
        RecurseSubdirectories = true,
        AttributesToSkip = FileAttributes.ReparsePoint,
        IgnoreInaccessible = true,
    };

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();

    public string Root { get; } = Path.GetFullPath(root);

    public async Task<IReadOnlyList<ProjectScript>> ReadAsync(string accountId, Guid projectId, CancellationToken cancellationToken)
    {
        var folder = ProjectFolder(accountId, projectId);
        if (!Directory.Exists(folder) || IsLink(folder))
        {
            return [];
        }

        var scripts = new Dictionary<string, ProjectScript>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder, "*.sql", Walk))
        {
            var relative = Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!ProjectPath.TryNormalize(relative, out var path, out _) || LeadsThroughLink(folder, path))
            {
                continue;
            }

            var info = new FileInfo(file);
            scripts[path] = new ProjectScript(path, await File.ReadAllTextAsync(file, Utf8, cancellationToken), info.LastWriteTimeUtc);
        }

        return [.. ProjectChain.Order(scripts.Keys).Select(p => scripts[p])];
    }

    public async Task<ProjectScript> SaveAsync(string accountId, Guid projectId, string path, string content, CancellationToken cancellationToken)
    {
        var checkedPath = Checked(path);
        var bytes = Utf8.GetBytes(content);
        if (bytes.Length > limits.MaxScriptBytes)
        {
            throw new ProjectRefusedException(
                $"{checkedPath} has {Megabytes(bytes.Length)}; a script may have at most {Megabytes(limits.MaxScriptBytes)}. Split it into several scripts.");
        }

        var folder = ProjectFolder(accountId, projectId);
        var gate = _locks.GetOrAdd(folder, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            Directory.CreateDirectory(folder);
            var target = Target(folder, checkedPath);
            var existing = File.Exists(target) ? new FileInfo(target).Length : 0;
            // A repository's history (.git) is bounded when it is fetched, not here.
            var gitFolder = Path.Combine(folder, ".git") + Path.DirectorySeparatorChar;
            var files = Directory.EnumerateFiles(folder, "*", Walk).Where(f => !f.StartsWith(gitFolder, StringComparison.Ordinal)).Select(f => new FileInfo(f)).ToList();
            if (existing == 0 && !File.Exists(target) && files.Count(f => f.Extension == ".sql") >= limits.MaxScripts)
            {
                throw new ProjectRefusedException($"The project has {limits.MaxScripts} scripts, the most it may have; delete one before adding {checkedPath}.");
            }

            var total = files.Sum(f => f.Length) - existing + bytes.Length;
            if (total > limits.MaxProjectBytes)
            {
                throw new ProjectRefusedException(
                    $"Saving {checkedPath} would make the project {Megabytes(total)}; a project may hold {Megabytes(limits.MaxProjectBytes)}. Make room first.");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var temporary = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
            try
            {
                await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                {
                    await stream.WriteAsync(bytes, cancellationToken);
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temporary, target, overwrite: true);
            }
            finally
            {
                File.Delete(temporary);
            }

            return new ProjectScript(checkedPath, content, clock.GetUtcNow());
        }
        catch (IOException e) when (e.HResult == 28 || e.Message.Contains("No space left", StringComparison.Ordinal))
        {
            throw new ProjectRefusedException($"The server's disk is full: {checkedPath} was not saved (the previous version is kept). Tell your administrator.");
        }
        finally
        {
            gate.Release();
        }
    }

    public Task RenameAsync(string accountId, Guid projectId, string path, string newPath, CancellationToken cancellationToken)
    {
        var from = Checked(path);
        var to = Checked(newPath);
        var folder = ProjectFolder(accountId, projectId);
        var source = Target(folder, from);
        var target = Target(folder, to);
        if (!File.Exists(source))
        {
            throw new ProjectRefusedException($"There is no script {from} to rename.");
        }

        if (File.Exists(target) && from != to)
        {
            throw new ProjectRefusedException($"There is a script {to} already; choose another name or delete it first.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(source, target);
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string accountId, Guid projectId, string path, CancellationToken cancellationToken)
    {
        var target = Target(ProjectFolder(accountId, projectId), Checked(path));
        File.Delete(target);
        return Task.CompletedTask;
    }

    public Task DeleteProjectAsync(string accountId, Guid projectId, CancellationToken cancellationToken)
    {
        var folder = ProjectFolder(accountId, projectId);
        if (Directory.Exists(folder))
        {
            // Deleting a folder removes links, never what they point to.
            Directory.Delete(folder, recursive: true);
        }

        return Task.CompletedTask;
    }

    public Task DeleteAccountAsync(string accountId, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(ProjectFolder(accountId, Guid.Empty))!;
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        return Task.CompletedTask;
    }

    private static string Checked(string path) =>
        ProjectPath.TryNormalize(path, out var normalized, out var problem) ? normalized : throw new ProjectRefusedException(problem);

    /// <summary>The file for a checked path; refused when a folder on the way, or the file itself, is a link.</summary>
    private static string Target(string folder, string path)
    {
        if (LeadsThroughLink(folder, path))
        {
            throw new ProjectRefusedException($"{path} leads through a link; links in a project are not followed. Remove the link.");
        }

        return Path.Combine(folder, path.Replace('/', Path.DirectorySeparatorChar));
    }

    private static bool LeadsThroughLink(string folder, string path)
    {
        var current = folder;
        foreach (var part in path.Split('/'))
        {
            current = Path.Combine(current, part);
            if (IsLink(current))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the path itself is a link (to a file or a folder, dangling or not), without following it.</summary>
    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;

    /// <summary>The folder of a project's files (Git keeps its repository there too).</summary>
    public string FolderOf(string accountId, Guid projectId) => ProjectFolder(accountId, projectId);

    private string ProjectFolder(string accountId, Guid projectId)
    {
        // Account ids are GUIDs; anything else is refused rather than turned into a path.
        if (accountId.Length is 0 or > 64 || accountId.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            throw new ArgumentException($"'{accountId}' is not an account id.", nameof(accountId));
        }

        return Path.Combine(Root, accountId, projectId.ToString("N"));
    }

    private static string Megabytes(long bytes) => bytes >= 1024 * 1024
        ? $"{bytes / 1048576.0:0.#} MB"
        : $"{bytes / 1024.0:0.#} KB";
}
