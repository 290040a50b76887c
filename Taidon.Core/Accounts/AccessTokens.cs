using System.Security.Cryptography;
using System.Text;

namespace Taidon.Core.Accounts;

/// <summary>
/// The format of API access tokens: <c>tdn_</c> followed by 32 random bytes in base64url.
/// Only the SHA-256 of a token is stored; the token itself is shown once, when it is created.
/// </summary>
public static class AccessTokens
{
    public const string Prefix = "tdn_";

    private const int RandomBytes = 32;

    /// <summary>The length of the part of a token kept in clear to recognise it in lists (prefix included).</summary>
    public const int DisplayLength = 10;

    public static string Generate()
    {
        Span<byte> bytes = stackalloc byte[RandomBytes];
        RandomNumberGenerator.Fill(bytes);
        return Prefix + Base64UrlEncode(bytes);
    }

    /// <summary>True when <paramref name="token"/> has the shape of a Taidon token (not that it is valid).</summary>
    public static bool LooksLikeToken(string? token) =>
        token is not null
        && token.Length == Prefix.Length + 43
        && token.StartsWith(Prefix, StringComparison.Ordinal)
        && token.AsSpan(Prefix.Length).IndexOfAnyExcept(Base64UrlAlphabet) < 0;

    public static string Hash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static string DisplayPart(string token) => token[..Math.Min(DisplayLength, token.Length)];

    private static readonly System.Buffers.SearchValues<char> Base64UrlAlphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private static string Base64UrlEncode(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
