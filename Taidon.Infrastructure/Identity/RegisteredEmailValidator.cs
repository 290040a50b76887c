using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;

namespace Taidon.Infrastructure.Identity;

/// <summary>
/// Registered accounts need a valid email that no other account has; anonymous accounts have none.
/// (Identity's own RequireUniqueEmail would refuse the email-less anonymous accounts.)
/// </summary>
public sealed class RegisteredEmailValidator : IUserValidator<TaidonUser>
{
    private static readonly EmailAddressAttribute EmailFormat = new();

    public async Task<IdentityResult> ValidateAsync(UserManager<TaidonUser> manager, TaidonUser user)
    {
        var email = await manager.GetEmailAsync(user);
        if (string.IsNullOrWhiteSpace(email))
        {
            return user.IsAnonymous
                ? IdentityResult.Success
                : IdentityResult.Failed(manager.ErrorDescriber.InvalidEmail(email));
        }

        if (!EmailFormat.IsValid(email))
        {
            return IdentityResult.Failed(manager.ErrorDescriber.InvalidEmail(email));
        }

        var owner = await manager.FindByEmailAsync(email);
        return owner is not null && owner.Id != user.Id
            ? IdentityResult.Failed(manager.ErrorDescriber.DuplicateEmail(email))
            : IdentityResult.Success;
    }
}
