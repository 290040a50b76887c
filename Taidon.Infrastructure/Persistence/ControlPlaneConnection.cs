using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Infrastructure.Persistence;

/// <summary>
/// The control-plane database, known before the host is built: the configured
/// <c>ConnectionStrings:ControlPlane</c>, or the embedded cluster started for this process.
/// </summary>
/// <remarks>The connection string holds a password: it is kept here and never copied into configuration or logs.</remarks>
public sealed class ControlPlaneConnection(string connectionString, EmbeddedControlPlane? embedded)
{
    public const string ConnectionStringName = "ControlPlane";

    public string ConnectionString { get; } = connectionString;

    /// <summary>The cluster Taidon started itself, or null when a configured server is used.</summary>
    public EmbeddedControlPlane? Embedded { get; } = embedded;

    /// <summary>Stops the embedded cluster, if any; safe to call more than once.</summary>
    public Task StopEmbeddedAsync() => Embedded?.StopAsync(CancellationToken.None) ?? Task.CompletedTask;
}
