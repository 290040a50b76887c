using Microsoft.AspNetCore.Identity;

namespace Taidon.Infrastructure.Identity;

/// <summary>Identity's refusals in Taidon's words: user names are emails here, and each message says what to do.</summary>
public sealed class TaidonIdentityErrorDescriber : IdentityErrorDescriber
{
    public override IdentityError DuplicateUserName(string userName) => DuplicateEmail(userName);

    public override IdentityError DuplicateEmail(string email) => new()
    {
        Code = nameof(DuplicateEmail),
        Description = $"An account with the email {email} already exists. Sign in to it, or use another email.",
    };

    public override IdentityError InvalidEmail(string? email) => new()
    {
        Code = nameof(InvalidEmail),
        Description = $"'{email}' is not an email address.",
    };

    public override IdentityError PasswordRequiresNonAlphanumeric() => new()
    {
        Code = nameof(PasswordRequiresNonAlphanumeric),
        Description = "The password needs a symbol (such as ! or -).",
    };

    public override IdentityError PasswordRequiresUpper() => new()
    {
        Code = nameof(PasswordRequiresUpper),
        Description = "The password needs an upper-case letter.",
    };

    public override IdentityError PasswordRequiresLower() => new()
    {
        Code = nameof(PasswordRequiresLower),
        Description = "The password needs a lower-case letter.",
    };

    public override IdentityError PasswordRequiresDigit() => new()
    {
        Code = nameof(PasswordRequiresDigit),
        Description = "The password needs a digit.",
    };

    public override IdentityError PasswordTooShort(int length) => new()
    {
        Code = nameof(PasswordTooShort),
        Description = $"The password needs at least {length} characters.",
    };
}
