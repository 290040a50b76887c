using Microsoft.AspNetCore.Components.Endpoints;

namespace Taidon.Web.Features.Accounts;

/// <summary>Which requests are visits to the app's pages: the ones that make a guest account (and are limited per address for that).</summary>
public static class VisitorPages
{
    /// <summary>A GET of one of the app's pages, outside the account and error pages (signing in must not make a guest account).</summary>
    public static bool IsPageView(HttpContext context) =>
        HttpMethods.IsGet(context.Request.Method)
        && context.GetEndpoint()?.Metadata.GetMetadata<ComponentTypeMetadata>() is not null
        && !context.Request.Path.StartsWithSegments("/Account", StringComparison.OrdinalIgnoreCase)
        && !context.Request.Path.StartsWithSegments("/not-found", StringComparison.OrdinalIgnoreCase)
        && !context.Request.Path.StartsWithSegments("/Error", StringComparison.OrdinalIgnoreCase);
}
