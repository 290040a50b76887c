namespace Taidon.Core.Git;

/// <summary>
/// The key an access token is kept under for a remote: <c>host[:port]</c> for https (as before), and
/// <c>http://host[:port]</c> for plain http, so a token saved for https is never sent in clear to the
/// same host over http.
/// </summary>
public static class GitCredentialKey
{
    public const string PlainHttpPrefix = "http://";

    public static string Of(Uri remote)
    {
        var host = remote.IsDefaultPort ? remote.Host : $"{remote.Host}:{remote.Port}";
        return (remote.Scheme == Uri.UriSchemeHttp ? PlainHttpPrefix : "") + host.ToLowerInvariant();
    }
}
