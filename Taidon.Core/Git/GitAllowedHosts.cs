namespace Taidon.Core.Git;

/// <summary>
/// The hosts an admin allows whatever their address (<c>Taidon:Git:AllowedHosts</c>): <c>host</c> for
/// any port, or <c>host:port</c>; IPv6 in brackets (<c>[fd00::5]:3000</c>).
/// </summary>
public sealed class GitAllowedHosts
{
    private readonly HashSet<string> _entries;

    public GitAllowedHosts(IEnumerable<string>? entries) =>
        _entries = new HashSet<string>((entries ?? []).Select(e => e.Trim().TrimEnd('/').ToLowerInvariant()).Where(e => e.Length > 0), StringComparer.Ordinal);

    public static GitAllowedHosts None { get; } = new([]);

    /// <summary>Whether the host (as a URI writes it: lower case, IPv6 in brackets) is allowed on this port.</summary>
    public bool Allows(string host, int port)
    {
        var name = host.Trim().TrimEnd('.').ToLowerInvariant();
        return _entries.Contains(name) || _entries.Contains($"{name}:{port}");
    }

    /// <summary>Why an entry of the setting is not a host or host:port, or null.</summary>
    public static string? Problem(string entry)
    {
        var text = entry.Trim();
        return text.Length > 0 && Uri.TryCreate("http://" + text + "/", UriKind.Absolute, out var uri) && uri.AbsolutePath == "/" && uri.UserInfo.Length == 0
            && uri.Query.Length == 0 && uri.Fragment.Length == 0
            ? null
            : $"'{entry}' is not a host or host:port (write it like git.school.internal or 10.0.0.5:3000)";
    }
}
