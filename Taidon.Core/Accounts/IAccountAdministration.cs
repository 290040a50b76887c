using Taidon.Core.Quotas;

namespace Taidon.Core.Accounts;

/// <summary>An account as the users page lists it.</summary>
public sealed record AdminAccount(
    string Id, string? UserName, string? Email, bool Anonymous, bool Admin, bool Locked, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt,
    string? PlanName, int Instances, QuotaOverride? Override = null);

/// <summary>A refused account change, saying why.</summary>
public sealed class AccountChangeRefusedException(string message) : Exception(message);

/// <summary>
/// Accounts for admins (the port; ASP.NET Core Identity implements it): search, admin role, lock, delete
/// with everything the account owns, plan. Every change is audited; an admin cannot lock, demote or
/// delete their own account (an installation keeps an admin).
/// </summary>
public interface IAccountAdministration
{
    /// <summary>A page of accounts whose name, email or id contains the text (guests or registered ones only, when asked), newest first.</summary>
    Task<IReadOnlyList<AdminAccount>> SearchAsync(string? text, bool? anonymous, int skip, CancellationToken cancellationToken);

    Task SetAdminAsync(string accountId, bool admin, string actorId, CancellationToken cancellationToken);

    Task SetLockedAsync(string accountId, bool locked, string actorId, CancellationToken cancellationToken);

    Task DeleteAsync(string accountId, string actorId, CancellationToken cancellationToken);

    Task AssignPlanAsync(string accountId, string? planName, QuotaOverride? limits, string actorId, CancellationToken cancellationToken);
}

/// <summary>How many accounts the users page lists at once.</summary>
public static class AccountPages
{
    public const int PageSize = 100;
}

/// <summary>Accounts made for visitors at once, without a form (the port; ASP.NET Core Identity implements it).</summary>
/// <summary>A guest account made for the API, with its token (shown once).</summary>
public sealed record NewGuest(string AccountId, string Token);

public interface IGuestAccounts
{
    /// <summary>Makes a guest account (a student, with a random name); returns its id.</summary>
    Task<string> CreateAsync(CancellationToken cancellationToken);

    /// <summary>Makes a guest account with an access token for the API, in one write; the token's value is seen only here.</summary>
    Task<NewGuest> CreateWithTokenAsync(string tokenName, CancellationToken cancellationToken);

    /// <summary>
    /// Turns a guest account into a registered one in place, keeping its id and so everything it owns.
    /// Refused with the reasons (a taken email, a weak password); then the account stays as it was.
    /// </summary>
    Task<IReadOnlyList<string>> RegisterAsync(string accountId, string email, string password, CancellationToken cancellationToken);
}

/// <summary>When each account was last seen (the port): written at most every few minutes an account.</summary>
public interface IAccountActivity
{
    Task TouchAsync(string accountId, CancellationToken cancellationToken);
}
