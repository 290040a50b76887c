using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Taidon.Tests.Support;

/// <summary>
/// A real OpenID Connect provider for tests: OpenIddict's server on a loopback port, authorization
/// code flow with PKCE, one registered client, and one user who is signed in at the authorization
/// endpoint without a form (the provider's own login page is not what is under test).
/// </summary>
public sealed class OidcTestProvider : IAsyncDisposable
{
    public const string ClientId = "taidon";
    public const string ClientSecret = "taidon-test-secret";

    private readonly WebApplication _app;

    private OidcTestProvider(WebApplication app, Uri authority)
    {
        _app = app;
        Authority = authority;
    }

    public Uri Authority { get; }

    /// <summary>The email and subject of the user the next authorization request signs in.</summary>
    public string UserEmail { get; set; } = "oidc-user@idp.test";

    public string UserSubject { get; set; } = "subject-1";

    /// <summary>The <c>email_verified</c> the provider sends with the email (in the ID token and the user info); null sends none.</summary>
    public bool? EmailVerified { get; set; } = true;

    public static async Task<OidcTestProvider> StartAsync()
    {
        OidcTestProvider? provider = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Services.AddAuthentication();
        builder.Services.AddOpenIddict().AddServer(server =>
        {
            server.SetAuthorizationEndpointUris("connect/authorize")
                .SetTokenEndpointUris("connect/token")
                .SetUserInfoEndpointUris("connect/userinfo");
            server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
            server.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email);
            server.AddEphemeralEncryptionKey().AddEphemeralSigningKey().DisableAccessTokenEncryption();
            // No database: this provider knows one client, checked by the handlers below.
            server.EnableDegradedMode();
            server.UseAspNetCore()
                .EnableAuthorizationEndpointPassthrough()
                .EnableTokenEndpointPassthrough()
                .EnableUserInfoEndpointPassthrough()
                .DisableTransportSecurityRequirement();

            server.AddEventHandler<OpenIddictServerEvents.ValidateAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId)
                {
                    context.Reject(Errors.InvalidClient, "Unknown client.");
                }
                else if (context.RedirectUri is null || !context.RedirectUri.EndsWith("/signin-oidc", StringComparison.Ordinal))
                {
                    context.Reject(Errors.InvalidRequest, "Unexpected redirect_uri.");
                }

                return default;
            }));
            server.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId || context.Request.ClientSecret != ClientSecret)
                {
                    context.Reject(Errors.InvalidClient, "Wrong client credentials.");
                }

                return default;
            }));
        });

        var app = builder.Build();
        app.UseAuthentication();
        app.MapMethods("/connect/authorize", ["GET", "POST"], (HttpContext context) =>
        {
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, provider!.UserSubject)
                .SetClaim(Claims.Email, provider.UserEmail)
                .SetClaim(Claims.Name, provider.UserEmail);
            if (provider.EmailVerified is { } verified)
            {
                identity.AddClaim(new Claim(Claims.EmailVerified, verified ? "true" : "false", ClaimValueTypes.Boolean));
            }

            identity.SetScopes(context.GetOpenIddictServerRequest()!.GetScopes());
            identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        app.MapPost("/connect/token", async (HttpContext context) =>
        {
            var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            return Results.SignIn(result.Principal!, null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        app.MapMethods("/connect/userinfo", ["GET", "POST"], async (HttpContext context) =>
        {
            var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            var principal = result.Principal!;
            var claims = new Dictionary<string, object?>
            {
                [Claims.Subject] = principal.GetClaim(Claims.Subject),
                [Claims.Email] = principal.GetClaim(Claims.Email),
                [Claims.Name] = principal.GetClaim(Claims.Name),
            };
            if (principal.GetClaim(Claims.EmailVerified) is { } verified)
            {
                claims[Claims.EmailVerified] = bool.Parse(verified);
            }

            return Results.Json(claims);
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        provider = new OidcTestProvider(app, new Uri(address + "/"));
        return provider;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
