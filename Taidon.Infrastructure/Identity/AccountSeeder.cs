using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Taidon.Core.Accounts;

namespace Taidon.Infrastructure.Identity;

/// <summary>Creates the roles and, when there is no admin yet, the first admin.</summary>
public sealed class AccountSeeder(
    RoleManager<IdentityRole> roles,
    UserManager<TaidonUser> users,
    IOptions<AccountOptions> options,
    TimeProvider clock,
    ILogger<AccountSeeder> logger)
{
    public const string DefaultAdminEmail = "admin@taidon.local";

    public async Task SeedAsync()
    {
        foreach (var role in TaidonRoles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                Check(await roles.CreateAsync(new IdentityRole(role)), $"create the role {role}");
            }
        }

        if ((await users.GetUsersInRoleAsync(TaidonRoles.Admin)).Count > 0)
        {
            return;
        }

        var settings = options.Value;
        var email = string.IsNullOrWhiteSpace(settings.AdminEmail) ? DefaultAdminEmail : settings.AdminEmail.Trim();
        var generated = string.IsNullOrEmpty(settings.AdminPassword);
        var password = generated ? GeneratePassword() : settings.AdminPassword!;

        var admin = await users.FindByEmailAsync(email);
        if (admin is null)
        {
            var now = clock.GetUtcNow();
            admin = new TaidonUser
            {
                UserName = email,
                Email = email,
                EmailConfirmed = true,
                CreatedAt = now,
                LastSeenAt = now,
                MustChangePassword = generated,
            };
            var created = await users.CreateAsync(admin, password);
            if (!created.Succeeded)
            {
                throw new InvalidOperationException(
                    "Taidon:Accounts:AdminPassword is not accepted as a password: " + string.Join(" ", created.Errors.Select(e => e.Description)));
            }
        }

        Check(await users.AddToRolesAsync(admin, TaidonRoles.All), "make the first admin");
        if (generated)
        {
            // Printed once, on purpose: this is how the operator of a fresh installation gets in.
            logger.LogWarning(
                "Created the first admin {Email} with the one-time password {Password} . Sign in and choose a new password; " +
                "it is not printed again. Set Taidon:Accounts:AdminEmail and Taidon:Accounts:AdminPassword to choose them yourself.",
                email, password);
        }
        else
        {
            logger.LogInformation("Created the first admin {Email} from the settings", email);
        }
    }

    private static string GeneratePassword()
    {
        // Letters and digits plus one of each class the default password rules ask for.
        const string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        var chars = Enumerable.Range(0, 20).Select(_ => alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)]);
        return new string([.. chars]) + "-a7Q";
    }

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"Could not {what}: {string.Join("; ", result.Errors.Select(e => e.Description))}");
        }
    }
}
