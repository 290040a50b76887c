using Taidon.Core.Accounts;

namespace Taidon.Web.Features.Admin;

/// <summary>Admin endpoints of the HTTP API; every one is refused to accounts without the Admin role.</summary>
public static class AdminApi
{
    public static void MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/api/v1/admin")
            .WithTags("Admin")
            .RequireAuthorization(DependencyInjection.ApiPolicy, DependencyInjection.AdminPolicy);

        admin.MapGet("/accounts/summary", (IAccountDirectory accounts, CancellationToken cancellationToken) => accounts.SummarizeAsync(cancellationToken))
            .WithSummary("How many accounts there are, by kind, and how many were active in the last day.");
    }
}
