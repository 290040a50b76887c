using System.Security.Claims;

namespace Taidon.Web.Features.Admin;

/// <summary>The admin acting in a page, for the audit rows of what they change.</summary>
public static class AdminActor
{
    public static async Task<string> IdAsync(Task<Microsoft.AspNetCore.Components.Authorization.AuthenticationState> state) =>
        (await state).User.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("An admin page without a signed-in account.");
}
