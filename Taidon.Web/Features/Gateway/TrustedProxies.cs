using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using IPNetwork = System.Net.IPNetwork;

namespace Taidon.Web.Features.Gateway;

/// <summary>
/// Settings of <c>Taidon:ForwardedHeaders</c>: the proxies whose X-Forwarded-For and X-Forwarded-Proto
/// are believed. None by default: any client can write these headers, and believing them from anyone
/// would let a client choose the address its rate limits and audit rows see.
/// </summary>
public sealed class ForwardedHeadersSettings : IValidatableObject
{
    public const string SectionName = "Taidon:ForwardedHeaders";

    /// <summary>Addresses of proxies in front of the app (an ingress controller, a load balancer).</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR, such as the cluster's pod network) whose every address is a proxy in front of the app.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    public bool TrustsAnyProxy => KnownProxies.Count > 0 || KnownNetworks.Count > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var proxy in KnownProxies.Where(p => !IPAddress.TryParse(p, out _)))
        {
            yield return new ValidationResult($"Taidon:ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address.");
        }

        foreach (var network in KnownNetworks.Where(n => !IPNetwork.TryParse(n, out _)))
        {
            yield return new ValidationResult($"Taidon:ForwardedHeaders:KnownNetworks: '{network}' is not a network such as 10.244.0.0/16.");
        }
    }
}

/// <summary>The client's address and scheme from the proxies of <see cref="ForwardedHeadersSettings"/> only.</summary>
public static class TrustedProxies
{
    public static void AddTaidonForwardedHeaders(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersSettings>().BindConfiguration(ForwardedHeadersSettings.SectionName).ValidateDataAnnotations().ValidateOnStart();

        // After everything else: ASPNETCORE_FORWARDEDHEADERS_ENABLED (an older chart set it) clears the lists,
        // which believes every peer; here the lists are the configured ones, whoever configured before.
        services.AddOptions<ForwardedHeadersOptions>().PostConfigure<IOptions<ForwardedHeadersSettings>>((options, settings) =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in settings.Value.KnownProxies)
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in settings.Value.KnownNetworks)
            {
                options.KnownIPNetworks.Add(IPNetwork.Parse(network));
            }

            // Through several known proxies (a load balancer, then the ingress) to the first address that is not one.
            options.ForwardLimit = null;
        });
    }

    public static void UseTaidonForwardedHeaders(this WebApplication app)
    {
        // With ASPNETCORE_FORWARDEDHEADERS_ENABLED the host has added the same middleware (with these options) already.
        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value.TrustsAnyProxy
            && !string.Equals(app.Configuration["FORWARDEDHEADERS_ENABLED"], "true", StringComparison.OrdinalIgnoreCase))
        {
            app.UseForwardedHeaders();
        }
    }
}
