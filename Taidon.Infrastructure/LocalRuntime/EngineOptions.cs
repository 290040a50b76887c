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

/// <summary>The engine identity of this installation, resolved once.</summary>
public sealed class EngineIdentityProvider(IOptions<EngineOptions> engine, IOptions<PostgresOptions> postgres)
{
    private readonly Lazy<EngineIdentity> _identity = new(() =>
        EngineIdentity.PostgreSql(engine.Value.MajorVersion ?? PostgresBinaries.Locate(postgres.Value.BinDirectory).MajorVersion));

    public EngineIdentity Identity => _identity.Value;
}
