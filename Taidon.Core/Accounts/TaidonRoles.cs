namespace Taidon.Core.Accounts;

/// <summary>The roles an account can hold.</summary>
public static class TaidonRoles
{
    /// <summary>Runs the installation: quotas, instances, cache, users, audit.</summary>
    public const string Admin = "Admin";

    /// <summary>Every account, anonymous or registered, is a student.</summary>
    public const string Student = "Student";

    /// <summary>All roles, in the order they are created at start.</summary>
    public static IReadOnlyList<string> All { get; } = [Admin, Student];
}
