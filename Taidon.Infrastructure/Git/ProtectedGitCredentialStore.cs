using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Taidon.Core.Git;
using Taidon.Infrastructure.Persistence;

namespace Taidon.Infrastructure.Git;

/// <summary>An account's token for a Git host, encrypted with Data Protection (the embedded runtime's store).</summary>
public sealed class GitCredentialRecord
{
    public required string AccountId { get; set; }

    /// <summary>host[:port] (https) or http://host[:port], lower case.</summary>
    public required string Host { get; set; }

    public required string Username { get; set; }

    public required string ProtectedToken { get; set; }

    public DateTimeOffset SavedAt { get; set; }
}

public sealed class ProtectedGitCredentialStore(IDbContextFactory<ControlPlaneDbContext> contexts, IDataProtectionProvider protection, TimeProvider clock) : IGitCredentialStore
{
    private readonly IDataProtector _protector = protection.CreateProtector("Taidon.Git.Tokens.v1");

    public async Task SaveAsync(string accountId, string host, string username, string token, CancellationToken cancellationToken)
    {
        host = NormalizeHost(host);
        if (string.IsNullOrWhiteSpace(token) || token.Length > 4096)
        {
            throw new GitProblemException(GitProblem.Unauthorized, "A token has 1 to 4096 characters.");
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.GitCredentials.FindAsync([accountId, host], cancellationToken);
        if (record is null)
        {
            record = new GitCredentialRecord { AccountId = accountId, Host = host, Username = "", ProtectedToken = "" };
            db.GitCredentials.Add(record);
        }

        record.Username = string.IsNullOrWhiteSpace(username) ? "git" : username.Trim();
        record.ProtectedToken = _protector.Protect(token.Trim());
        record.SavedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<GitCredential?> FindAsync(string accountId, string host, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var record = await db.GitCredentials.AsNoTracking().SingleOrDefaultAsync(c => c.AccountId == accountId && c.Host == NormalizeHost(host), cancellationToken);
        if (record is null)
        {
            return null;
        }

        try
        {
            return new GitCredential(record.Username, _protector.Unprotect(record.ProtectedToken));
        }
        catch (CryptographicException)
        {
            // Its key is gone or cannot be decrypted (the key ring's certificate was changed without keeping the old one).
            throw new GitProblemException(GitProblem.Unauthorized,
                $"The access token saved for {record.Host} can no longer be read (the server's keys changed): save it again.");
        }
    }

    public async Task<IReadOnlyList<GitCredentialInfo>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.GitCredentials.AsNoTracking().Where(c => c.AccountId == accountId).OrderBy(c => c.Host)
            .Select(c => new GitCredentialInfo(c.Host, c.Username, c.SavedAt)).ToListAsync(cancellationToken);
    }

    public async Task DeleteAsync(string accountId, string host, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.GitCredentials.Where(c => c.AccountId == accountId && c.Host == NormalizeHost(host)).ExecuteDeleteAsync(cancellationToken);
    }

    public async Task DeleteAccountAsync(string accountId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.GitCredentials.Where(c => c.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>
    /// A remote's host as tokens are kept under it: "host[:port]" for https, "http://host[:port]" for
    /// plain http (<see cref="GitCredentialKey"/>), lower case; "https://" in front is dropped.
    /// </summary>
    public static string NormalizeHost(string host)
    {
        var trimmed = Uri.UnescapeDataString(host).Trim().TrimEnd('/').ToLowerInvariant();
        var prefix = "";
        if (trimmed.StartsWith("https://", StringComparison.Ordinal))
        {
            trimmed = trimmed["https://".Length..];
        }
        else if (trimmed.StartsWith(GitCredentialKey.PlainHttpPrefix, StringComparison.Ordinal))
        {
            (prefix, trimmed) = (GitCredentialKey.PlainHttpPrefix, trimmed[GitCredentialKey.PlainHttpPrefix.Length..]);
        }

        if (trimmed.Length is 0 or > 255 || trimmed.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']')))
        {
            throw new GitProblemException(GitProblem.BadUrl, $"'{host}' is not a host name (write it like git.example.edu or git.example.edu:8443, and http://host:port for a server without https).");
        }

        return prefix + trimmed;
    }
}
