using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Taidon.Tests.Components;

/// <summary>A bUnit context with MudBlazor's services (transitions off) and loose JS interop.</summary>
public abstract class ComponentTestContext : BunitContext, IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's services are only IAsyncDisposable: dispose the context asynchronously before xunit's Dispose.
    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    protected ComponentTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(options => options.SnackbarConfiguration.ShowTransitionDuration = 0);
        Services.AddLocalization();
    }

    /// <summary>Signs in (add other services before: the renderer is set up here, and services are fixed from then on).</summary>
    protected BunitAuthorizationContext SignInAs(string name, bool anonymous = false, params string[] roles)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized(name);
        auth.SetRoles(roles);
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, Guid.NewGuid().ToString()) };
        if (anonymous)
        {
            claims.Add(new Claim(Taidon.Core.Accounts.TaidonClaims.Anonymous, "true"));
        }

        auth.SetClaims([.. claims]);

        // As in the app: components render in an interactive server circuit (set once the services are in).
        Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
        return auth;
    }

}
