namespace Taidon.Core.Accounts;

/// <summary>Read access to the accounts of the installation, for admins.</summary>
public interface IAccountDirectory
{
    Task<AccountSummary> SummarizeAsync(CancellationToken cancellationToken);
}

/// <summary>How many accounts there are, by kind, and how many were active lately.</summary>
public sealed record AccountSummary(
    int Anonymous,
    int Registered,
    int Admins,
    int ActiveLastDay,
    int CreatedLastDay);
