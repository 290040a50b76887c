namespace Taidon.Core.Accounts;

/// <summary>Claim types Taidon adds to the signed-in principal.</summary>
public static class TaidonClaims
{
    /// <summary>Present with value "true" when the account was created for a visitor who never registered.</summary>
    public const string Anonymous = "taidon:anonymous";

    /// <summary>Present with value "true" while the account must replace a one-time password.</summary>
    public const string MustChangePassword = "taidon:must_change_password";

    /// <summary>The personal access token that authenticated an API request (its id, never its value).</summary>
    public const string AccessTokenId = "taidon:token_id";
}
