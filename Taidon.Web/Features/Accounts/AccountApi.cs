using Taidon.Infrastructure.Identity;
using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Taidon.Core.Accounts;

namespace Taidon.Web.Features.Accounts;

/// <summary>The account part of the HTTP API: anonymous tokens, who am I, personal access tokens.</summary>
public static class AccountApi
{
    public static void MapAccountApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1").WithTags("Accounts");

        api.MapPost("/anonymous", CreateAnonymousAsync)
            .AllowAnonymous()
            .WithSummary("Creates a fresh anonymous account and returns an access token for it.");

        var account = api.MapGroup("").RequireAuthorization(DependencyInjection.ApiPolicy);
        account.MapGet("/me", GetMeAsync).WithSummary("The account the token belongs to.");
        account.MapGet("/tokens", ListTokensAsync).WithSummary("The account's access tokens (never their values).");
        account.MapPost("/tokens", CreateTokenAsync).WithSummary("Creates a personal access token; its value is returned only here.");
        account.MapDelete("/tokens/{id:guid}", RevokeTokenAsync).WithSummary("Revokes one of the account's access tokens.");
    }

    public sealed record AnonymousAccountResponse(string Token);

    public sealed record AccountResponse(string Id, string UserName, string? Email, bool Anonymous, IReadOnlyList<string> Roles);

    public sealed record CreateTokenRequest(
        [property: Description("A name to recognise the token by, 1 to 100 characters.")] string Name,
        [property: Description("Days until the token expires; none for a token that lasts until revoked.")] int? ExpiresInDays);

    public sealed record CreatedTokenResponse(string Token, AccessTokenInfo Info);

    private static async Task<Created<AnonymousAccountResponse>> CreateAnonymousAsync(IGuestAccounts accounts, CancellationToken cancellationToken)
    {
        var guest = await accounts.CreateWithTokenAsync("anonymous", cancellationToken);
        return TypedResults.Created("/api/v1/me", new AnonymousAccountResponse(guest.Token));
    }

    private static async Task<Results<Ok<AccountResponse>, NotFound>> GetMeAsync(ClaimsPrincipal principal, UserManager<TaidonUser> users)
    {
        var user = await users.GetUserAsync(principal);
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        var roles = await users.GetRolesAsync(user);
        return TypedResults.Ok(new AccountResponse(user.Id, user.UserName ?? "", user.Email, user.IsAnonymous, [.. roles.Order()]));
    }

    private static async Task<Ok<IReadOnlyList<AccessTokenInfo>>> ListTokensAsync(
        ClaimsPrincipal principal, IAccessTokenService tokens, CancellationToken cancellationToken) =>
        TypedResults.Ok(await tokens.ListAsync(principal.AccountId(), cancellationToken));

    private static async Task<Results<Created<CreatedTokenResponse>, ProblemHttpResult>> CreateTokenAsync(
        CreateTokenRequest request, ClaimsPrincipal principal, IAccessTokenService tokens, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (request.ExpiresInDays is < 1 or > 3650)
        {
            return TypedResults.Problem("expiresInDays must be between 1 and 3650, or left out for a token that lasts until revoked.", statusCode: 400, title: "Invalid token request");
        }

        try
        {
            var expiresAt = request.ExpiresInDays is { } days ? clock.GetUtcNow().AddDays(days) : (DateTimeOffset?)null;
            var created = await tokens.CreateAsync(principal.AccountId(), request.Name ?? "", expiresAt, cancellationToken);
            return TypedResults.Created($"/api/v1/tokens/{created.Info.Id}", new CreatedTokenResponse(created.Token, created.Info));
        }
        catch (ArgumentException e)
        {
            return TypedResults.Problem(e.Message.Split(" (Parameter")[0], statusCode: 400, title: "Invalid token request");
        }
        catch (InvalidOperationException e)
        {
            return TypedResults.Problem(e.Message, statusCode: 409, title: "Too many tokens");
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeTokenAsync(
        Guid id, ClaimsPrincipal principal, IAccessTokenService tokens, CancellationToken cancellationToken) =>
        await tokens.RevokeAsync(principal.AccountId(), id, cancellationToken)
            ? TypedResults.NoContent()
            : TypedResults.Problem($"Your account has no active token {id}.", statusCode: 404, title: "No such token");

}
