using Microsoft.AspNetCore.Components.Endpoints;

namespace Taidon.Web.Features.Accounts;

/// <summary>Which requests are visits to the app's pages (a signed-in visitor's are recorded as activity).</summary>
public static class VisitorPages
{
    /// <summary>A GET of one of the app's pages, outside the account and error pages (the account pages manage accounts themselves).</summary>
    public static bool IsPageView(HttpContext context) =>
        HttpMethods.IsGet(context.Request.Method)
        && context.GetEndpoint()?.Metadata.GetMetadata<ComponentTypeMetadata>() is not null
        && !context.Request.Path.StartsWithSegments("/Account", StringComparison.OrdinalIgnoreCase)
        && !context.Request.Path.StartsWithSegments("/not-found", StringComparison.OrdinalIgnoreCase)
        && !context.Request.Path.StartsWithSegments("/Error", StringComparison.OrdinalIgnoreCase);
}
