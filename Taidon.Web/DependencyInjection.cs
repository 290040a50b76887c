using System.Text.Json;
using System.Text.Json.Serialization;
using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using MudBlazor.Services;
using Taidon.Core.Accounts;
using Taidon.Infrastructure;
using Taidon.Infrastructure.Identity;
using Taidon.Web.Components;
using Taidon.Web.Components.Account;
using Taidon.Web.Features.Accounts;
using Taidon.Web.Features.Admin;
using Taidon.Web.Features.Gateway;
using Taidon.Web.Features.Git;
using Taidon.Web.Features.Localization;
using Taidon.Web.Features.Projects;
using Taidon.Web.Features.Runs;
using Taidon.Web.Features.SqlChain;
using Taidon.Web.Features.Telemetry;
using Taidon.Web.Features.Workspace;

namespace Taidon.Web;

public static class DependencyInjection
{
    public const string AdminPolicy = "Admin";
    public const string ApiPolicy = "Api";

    /// <summary>Plain text by default; <c>Taidon:LogFormat=json</c> writes one JSON object per line on stdout.</summary>
    public static void AddTaidonLogging(this WebApplicationBuilder builder)
    {
        if (builder.Configuration[$"{TaidonOptions.SectionName}:{nameof(TaidonOptions.LogFormat)}"] == "json")
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o => o.UseUtcTimestamp = true);
        }
    }

    /// <summary>Pages, authentication, the API, the gateway's rate limits and telemetry.</summary>
    public static void AddTaidonWeb(this WebApplicationBuilder builder)
    {
        var services = builder.Services;

        services.AddStaticAssetsCheck();
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddTaidonLocalization();
        services.AddAuditClientAddress();
        services.AddCascadingAuthenticationState();
        services.AddScoped<IdentityRedirectManager>();
        services.AddScoped<IWorkspaceBackend, WorkspaceBackend>();
        services.AddScoped<GuestSignIn>();
        services.AddSingleton<RegistrationTicket>();
        services.AddScoped<AuthenticationStateProvider, IdentityRevalidatingAuthenticationStateProvider>();
        services.AddSingleton<IEmailSender<TaidonUser>, IdentityNoOpEmailSender>();

        var authentication = services.AddAuthentication(options =>
            {
                options.DefaultScheme = AccountSchemes.Selector;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddPolicyScheme(AccountSchemes.Selector, displayName: null, options =>
                options.ForwardDefaultSelector = AccountSchemes.Select)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(AccountSchemes.Bearer, null);
        authentication.AddIdentityCookies();
        services.AddOidcSignIn(builder.Configuration, authentication);
        services.ConfigureApplicationCookie(options =>
        {
            options.Cookie.Name = "taidon.session";
            options.LoginPath = "/Account/Login";
            options.AccessDeniedPath = "/Account/AccessDenied";
            options.SlidingExpiration = true;
        });
        services.ConfigureOptions<CookieAuthenticationOptionsSetup>();
        // A cookie's account is checked as often as an open circuit's (the security stamp changes on a lock or a change of roles).
        services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = IdentityRevalidatingAuthenticationStateProvider.Interval);

        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireRole(TaidonRoles.Admin))
            .AddPolicy(ApiPolicy, policy => policy.AddAuthenticationSchemes(AccountSchemes.Bearer).RequireAuthenticatedUser());

        services.AddProblemDetails();
        services.AddExceptionHandler<InstallationAtCapacityHandler>();
        services.AddSingleton(new BusyControlPlane(Taidon.Infrastructure.Persistence.ControlPlaneBusy.Is));
        services.AddExceptionHandler<ControlPlaneBusyHandler>();
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
        services.AddOpenApi(options => options.AddDocumentTransformer<BearerSecuritySchemeTransformer>());
        services.AddTaidonForwardedHeaders();
        services.AddTaidonRateLimiting();
        services.AddTaidonTelemetry(builder.Configuration);
        services.AddSingleton<CircuitConnections>();
        services.AddHostedService<GracefulStop>();
        services.AddSingleton<WarmUp>();
        services.AddHostedService(sp => sp.GetRequiredService<WarmUp>());
        services.AddHealthChecks().AddCheck<WarmUp>("warm-up", tags: ["ready"]);
    }

    public static void UseTaidonPipeline(this WebApplication app)
    {
        app.UseTaidonForwardedHeaders();
        app.UseMetricsPort();
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        app.UseWhen(
            context => context.Request.Path.StartsWithSegments("/api"),
            api =>
            {
                api.UseExceptionHandler();
                api.UseStatusCodePages();
            });
        app.UseWhen(
            context => !context.Request.Path.StartsWithSegments("/api"),
            pages =>
            {
                pages.UseExceptionHandler("/Error", createScopeForErrors: true);
                pages.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
            });

        var circuits = app.Services.GetRequiredService<CircuitConnections>();
        app.Use((context, next) => circuits.TrackAsync(context, next));
        app.UseAuditClientAddress();
        app.UseRequestLocalization();
        app.UseRouting();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseMiddleware<AccountActivityMiddleware>();
        app.UseAuthorization();
        app.UseAntiforgery();
    }

    public static void MapTaidonEndpoints(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapAdditionalIdentityEndpoints();
        app.MapLanguageSwitch();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapAccountApi();
        GuestSignIn.Map(app);
        app.MapSqlChainApi();
        app.MapRunsApi();
        app.MapProjectsApi();
        app.MapGitApi();
        app.MapAdminApi();

        app.MapHangfireDashboard("/admin/jobs", new DashboardOptions
        {
            // Access is decided by the endpoint's authorization policy below, not by Hangfire's local-only default.
            Authorization = [],
            DashboardTitle = "Taidon jobs",
            AppPath = "/admin",
        })
            .RequireAuthorization(AdminPolicy);

        app.MapTaidonHealthAndMetrics();
    }
}
