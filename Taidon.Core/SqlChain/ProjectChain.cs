using System.Text;

namespace Taidon.Core.SqlChain;

/// <summary>A file of a project handed to the chain: its relative path (with '/') and its bytes.</summary>
public sealed record ProjectFile(string Path, ReadOnlyMemory<byte> Content);

/// <summary>
/// The order of a project's scripts and which of them a run includes.
/// </summary>
/// <remarks>
/// Order: the folders <c>init/</c>, <c>seed/</c>, <c>test/</c>, <c>bench/</c> in that order; within a
/// folder, files (subfolders included) by the ordinal order of their path, so <c>init/01_schema.sql</c>
/// comes before <c>init/02_data.sql</c> and <c>init/a/x.sql</c> before <c>init/b.sql</c>. Only
/// <c>.sql</c> files count. A run includes init and seed, then the script being run; running a script
/// of init or seed runs the chain up to and including it.
/// </remarks>
public static class ProjectChain
{
    public static IReadOnlyList<string> Folders { get; } = ["init", "seed", "test", "bench"];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The project's SQL scripts in chain order; other files are left out.</summary>
    public static IReadOnlyList<string> Order(IEnumerable<string> paths) =>
        [.. paths
            .Select(p => p.Replace('\\', '/').TrimStart('/'))
            .Where(p => p.EndsWith(".sql", StringComparison.OrdinalIgnoreCase) && FolderOf(p) >= 0)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(FolderOf)
            .ThenBy(p => p, StringComparer.Ordinal)];

    /// <summary>The scripts a run of <paramref name="script"/> includes, in order.</summary>
    public static IReadOnlyList<string> ScriptsForRun(IEnumerable<string> paths, string script)
    {
        var ordered = Order(paths);
        script = script.Replace('\\', '/').TrimStart('/');
        var index = ordered.ToList().IndexOf(script);
        if (index < 0)
        {
            throw new ArgumentException(
                $"'{script}' is not a script of the chain: runnable scripts are .sql files under {string.Join("/, ", Folders)}/.", nameof(script));
        }

        var folder = FolderOf(script);
        if (folder <= 1)
        {
            return ordered.Take(index + 1).ToList();
        }

        return [.. ordered.Where(p => FolderOf(p) <= 1), script];
    }

    /// <summary>
    /// Decodes the files (UTF-8, an optional byte order mark) and splits them as one session, in the
    /// order given. A file that is not valid UTF-8 is a problem that names the file and the byte.
    /// </summary>
    public static SqlScript Split(IReadOnlyList<ProjectFile> files)
    {
        var sources = new List<SqlSource>();
        var problems = new List<ScriptProblem>();
        foreach (var file in files)
        {
            var bytes = file.Content.Span;
            if (bytes.StartsWith("\uFEFF"u8))
            {
                bytes = bytes[3..];
            }

            try
            {
                sources.Add(new SqlSource(file.Path, StrictUtf8.GetString(bytes)));
            }
            catch (DecoderFallbackException)
            {
                var offset = InvalidUtf8Offset(bytes);
                var line = 1 + bytes[..Math.Max(0, offset)].Count((byte)'\n');
                problems.Add(new ScriptProblem(
                    file.Path,
                    new SourcePosition(line, 1),
                    offset,
                    $"This file is not valid UTF-8 (byte {offset}, line {line}).",
                    "Save it as UTF-8; Taidon reads scripts only in that encoding."));
            }
        }

        var script = SqlSplitter.Split(sources);
        return problems.Count == 0 ? script : script with { Problems = [.. problems, .. script.Problems] };
    }

    private static int FolderOf(string path)
    {
        var slash = path.IndexOf('/');
        if (slash <= 0)
        {
            return -1;
        }

        var folder = path[..slash];
        for (var i = 0; i < Folders.Count; i++)
        {
            if (folder == Folders[i])
            {
                return i;
            }
        }

        return -1;
    }

    private static int InvalidUtf8Offset(ReadOnlySpan<byte> bytes)
    {
        var status = System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out var read, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? 0 : read;
    }
}
