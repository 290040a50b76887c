using Taidon.Core.SqlChain;

namespace Taidon.Core.Projects;

/// <summary>
/// A script's path inside a project, checked: relative, with '/' between parts, under one of the chain's
/// folders (<c>init/</c>, <c>seed/</c>, <c>test/</c>, <c>bench/</c>), ending in <c>.sql</c>, with no
/// <c>..</c>, no hidden parts and no characters a file system would treat specially. A refusal says why.
/// </summary>
public static class ProjectPath
{
    public const int MaxLength = 200;
    public const int MaxPartLength = 80;
    public const int MaxDepth = 4;

    /// <summary>The path as stored, or the reason it is refused.</summary>
    public static bool TryNormalize(string? path, out string normalized, out string problem)
    {
        normalized = "";
        problem = Check(path);
        if (problem.Length > 0)
        {
            return false;
        }

        normalized = path!.Trim();
        return true;
    }

    /// <summary>The path as stored; throws <see cref="ArgumentException"/> with the reason when it is refused.</summary>
    public static string Normalize(string? path) =>
        TryNormalize(path, out var normalized, out var problem) ? normalized : throw new ArgumentException(problem, nameof(path));

    private static string Check(string? path)
    {
        var trimmed = path?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            return "A script needs a name, such as seed/01_data.sql.";
        }

        if (trimmed.Length > MaxLength)
        {
            return $"'{Shorten(trimmed)}' is {trimmed.Length} characters long; a script's path may have at most {MaxLength}.";
        }

        if (trimmed.Contains('\\', StringComparison.Ordinal))
        {
            return $"'{trimmed}' uses '\\'; separate folders with '/'.";
        }

        if (trimmed.StartsWith('/') || (trimmed.Length > 1 && trimmed[1] == ':'))
        {
            return $"'{trimmed}' is an absolute path; give it relative to the project, such as seed/01_data.sql.";
        }

        var parts = trimmed.Split('/');
        if (parts.Length > MaxDepth)
        {
            return $"'{trimmed}' is nested {parts.Length - 1} folders deep; at most {MaxDepth - 1} are allowed.";
        }

        foreach (var part in parts)
        {
            if (part is "" or "." or "..")
            {
                return $"'{trimmed}' has an empty, '.' or '..' part; a script stays inside its project.";
            }

            if (part.Length > MaxPartLength)
            {
                return $"'{Shorten(part)}' is longer than {MaxPartLength} characters.";
            }

            if (part.StartsWith('.') || part.EndsWith('.') || part.EndsWith(' ') || part.StartsWith(' '))
            {
                return $"'{part}' starts or ends with a dot or a space; such names are hidden or ambiguous.";
            }

            if (part.Any(c => !(char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or ' ')))
            {
                return $"'{part}' has a character other than letters, digits, '_', '-', '.' and spaces.";
            }
        }

        if (parts.Length < 2 || !ProjectChain.Folders.Contains(parts[0]))
        {
            return $"'{trimmed}' is not in a chain folder; scripts live in {string.Join(", ", ProjectChain.Folders.Select(f => f + "/"))}.";
        }

        if (!trimmed.EndsWith(".sql", StringComparison.Ordinal))
        {
            return $"'{trimmed}' does not end in .sql; only SQL scripts belong to the chain.";
        }

        return "";
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";
}
