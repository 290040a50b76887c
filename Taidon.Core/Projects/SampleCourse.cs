using Taidon.Core.SqlChain;

namespace Taidon.Core.Projects;

/// <summary>
/// The course shipped with Taidon (Taidon Books: a bookshop's schema, a computed seed of about 170 000
/// rows, exercises checked by <c>ASSERT</c>, and a benchmark): what a new visitor opens, and what the
/// benchmarks measure on.
/// </summary>
public static class SampleCourse
{
    private const string Prefix = "SampleCourse/";

    private static readonly Lazy<IReadOnlyList<SqlSource>> Loaded = new(Load);

    /// <summary>The course's scripts in chain order, with project-relative paths such as <c>seed/03_orders.sql</c>.</summary>
    public static IReadOnlyList<SqlSource> Files => Loaded.Value;

    /// <summary>The script at <paramref name="path"/>.</summary>
    public static SqlSource File(string path) =>
        Files.FirstOrDefault(f => f.Path == path) ?? throw new ArgumentException($"The sample course has no script {path}.", nameof(path));

    private static List<SqlSource> Load()
    {
        var assembly = typeof(SampleCourse).Assembly;
        var files = new Dictionary<string, SqlSource>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            // %(RecursiveDir) uses the build machine's separator.
            var path = name[Prefix.Length..].Replace('\\', '/');
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            files[path] = new SqlSource(path, reader.ReadToEnd());
        }

        return [.. ProjectChain.Order(files.Keys).Select(p => files[p])];
    }
}
