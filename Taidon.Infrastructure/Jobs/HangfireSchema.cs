using Hangfire.PostgreSql;
using Npgsql;

namespace Taidon.Infrastructure.Jobs;

/// <summary>
/// Hangfire's tables in the control-plane database. The storage does not install them itself: replicas
/// starting together on a fresh database each ran Hangfire's install script at once (XX000, duplicate
/// objects). <see cref="Persistence.ControlPlaneStartup"/> installs them once, under its advisory lock.
/// </summary>
internal static class HangfireSchema
{
    public const string Name = "hangfire";

    public static PostgreSqlStorageOptions StorageOptions() => new() { SchemaName = Name, PrepareSchemaIfNecessary = false };

    /// <summary>Creates or upgrades the schema; does nothing when it is at the package's version.</summary>
    public static void Install(NpgsqlConnection connection) => PostgreSqlObjectsInstaller.Install(connection, Name);
}
