using Taidon.Infrastructure.Identity;
using Microsoft.AspNetCore.Identity;

namespace Taidon.Web.Components.Account;

/// <summary>
/// No mail server is configured in this version: nothing is sent. When email confirmation is required,
/// the registration page shows the confirmation link itself (see RegisterConfirmation).
/// </summary>
internal sealed class IdentityNoOpEmailSender : IEmailSender<TaidonUser>
{
    public Task SendConfirmationLinkAsync(TaidonUser user, string email, string confirmationLink) => Task.CompletedTask;

    public Task SendPasswordResetLinkAsync(TaidonUser user, string email, string resetLink) => Task.CompletedTask;

    public Task SendPasswordResetCodeAsync(TaidonUser user, string email, string resetCode) => Task.CompletedTask;
}
