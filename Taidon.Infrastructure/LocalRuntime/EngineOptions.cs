using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>Settings of <c>Taidon:Engine</c>: the PostgreSQL that instances run, which h_0 of every chain names.</summary>
public sealed class EngineOptions
{
    public const string SectionName = "Taidon:Engine";

    /// <summary>The major version of the instances' PostgreSQL; by default that of the server programs found on this machine.</summary>
    [Range(12, 99, ErrorMessage = "Taidon:Engine:MajorVersion must be a PostgreSQL major version such as 15.")]
    public int? MajorVersion { get; set; }
}

/// <summary>
/// The engine identity of this installation, resolved once: the setting, else on Kubernetes the major
/// version in the instance image's tag (postgres:15-bookworm is 15), else the local server programs'.
/// </summary>
public sealed class EngineIdentityProvider(
    IOptions<EngineOptions> engine,
    IOptions<PostgresOptions> postgres,
    IOptions<KubernetesRuntime.RuntimeOptions> runtime,
    IOptions<KubernetesRuntime.KubernetesOptions> kubernetes) : IEngineIdentitySource
{
    private readonly Lazy<EngineIdentity> _identity = new(() => EngineIdentity.PostgreSql(
        engine.Value.MajorVersion
        ?? (runtime.Value.Kind == KubernetesRuntime.RuntimeKind.Kubernetes
            ? ImageMajorVersion(kubernetes.Value.InstanceImage) ?? throw new OptionsValidationException(nameof(EngineOptions.MajorVersion), typeof(EngineOptions),
                [$"The instance image '{kubernetes.Value.InstanceImage}' has no PostgreSQL major version in its tag: set Taidon:Engine:MajorVersion (e.g. 15)."])
            : PostgresBinaries.Locate(postgres.Value.BinDirectory).MajorVersion)));

    public EngineIdentity Identity => _identity.Value;

    /// <summary>The leading number of an image's tag ("registry:5000/postgres:15.4-bookworm" is 15), or null.</summary>
    public static int? ImageMajorVersion(string image)
    {
        var tag = image.Split('@')[0];
        var colon = tag.LastIndexOf(':');
        if (colon < 0 || tag.IndexOf('/', colon) >= 0)
        {
            return null;
        }

        var digits = new string([.. tag[(colon + 1)..].TakeWhile(char.IsAsciiDigit)]);
        return int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var major) && major >= 12 ? major : null;
    }
}
