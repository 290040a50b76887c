using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Taidon.Web.Features.Accounts;

/// <summary>Declares the bearer-token scheme in the OpenAPI document, so clients know how to authenticate.</summary>
public sealed class BearerSecuritySchemeTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Taidon API";
        document.Info.Description = "Authenticate with 'Authorization: Bearer <token>': a personal access token from the account page, or an anonymous one from POST /api/v1/anonymous. Errors are RFC 7807 problem details.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[AccountSchemes.Bearer] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A Taidon access token (tdn_...).",
        };
        return Task.CompletedTask;
    }
}
