using System.Collections.Concurrent;
using System.Security.Claims;

namespace Taidon.Core.Accounts;

/// <summary>
/// The claims of the accounts that call the API, kept for <see cref="Lifetime"/>: the token itself is
/// checked on every request (revoked means refused at once), but the account, its claims and its roles
/// (five queries) are read once per account in that time. An admin's change to an account (roles, lock,
/// deletion) and a guest's registration forget it at once; otherwise a change shows within the lifetime
/// (the sign-in cookie's own check waits 30 minutes). Bounded: past <see cref="MaxAccounts"/> the
/// expired entries go, and all of them if none has.
/// </summary>
public sealed class AccountPrincipals(TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
    public const int MaxAccounts = 20_000;

    private readonly ConcurrentDictionary<string, (Claim[] Claims, DateTimeOffset Until)> _known = new(StringComparer.Ordinal);

    /// <summary>The account's claims, read by <paramref name="read"/> when not known or too old (null, not kept: refused).</summary>
    public async Task<Claim[]?> GetAsync(string accountId, Func<Task<Claim[]?>> read)
    {
        var now = clock.GetUtcNow();
        if (_known.TryGetValue(accountId, out var known) && known.Until > now)
        {
            return known.Claims;
        }

        var claims = await read();
        if (claims is null)
        {
            _known.TryRemove(accountId, out _);
            return null;
        }

        if (_known.Count >= MaxAccounts)
        {
            foreach (var (id, entry) in _known)
            {
                if (entry.Until <= now)
                {
                    _known.TryRemove(id, out _);
                }
            }

            if (_known.Count >= MaxAccounts)
            {
                _known.Clear();
            }
        }

        _known[accountId] = (claims, now + Lifetime);
        return claims;
    }

    /// <summary>The account changed (roles, lock, registration, deletion): its next request reads it again.</summary>
    public void Forget(string accountId) => _known.TryRemove(accountId, out _);
}
