using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Taidon.Infrastructure.Identity;
using Taidon.Infrastructure.Jobs;

namespace Taidon.Infrastructure.Persistence;

/// <summary>
/// Applies the control-plane migrations, installs Hangfire's schema and creates the roles and the first
/// admin before the app serves anything or runs a job, one replica at a time; stops the embedded cluster
/// last, when the host stops.
/// </summary>
public sealed class ControlPlaneStartup(
    ControlPlaneConnection connection,
    IServiceScopeFactory scopes,
    ILogger<ControlPlaneStartup> logger) : IHostedService
{
    // A two-key advisory lock ("TAID", 1): two-key locks never meet the one-key locks of AdvisoryLayerBuildGate.
    internal const int LockClass = 0x54414944;
    internal const int LockMigrations = 1;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // EF Core's own migration lock does not cover creating the history table or seeding: replicas
        // starting together on a fresh database made tables, history rows, roles or the admin twice.
        await using var held = await LockAsync(cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var contexts = scope.ServiceProvider.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>();
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            // Made first, so a fresh database does not log a failed query for the missing history table.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
            await db.Database.MigrateAsync(cancellationToken);
            logger.LogInformation("The control-plane database is at migration {Migration}", (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).LastOrDefault());
        }

        // On the lock's own connection: Hangfire's storage never installs it (see HangfireSchema).
        HangfireSchema.Install(held);

        await scope.ServiceProvider.GetRequiredService<AccountSeeder>().SeedAsync();
    }

    public Task StopAsync(CancellationToken cancellationToken) => connection.StopEmbeddedAsync();

    /// <summary>
    /// A session-level advisory lock on a connection of its own (not pooled: closing it releases the lock,
    /// also when this process dies), so the next replica waits and then finds nothing to do.
    /// </summary>
    private async Task<NpgsqlConnection> LockAsync(CancellationToken cancellationToken)
    {
        var session = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false }.ConnectionString);
        try
        {
            await session.OpenAsync(cancellationToken);
            await using var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock($1, $2)", session) { Parameters = { new() { Value = LockClass }, new() { Value = LockMigrations } } };
            if (await tryLock.ExecuteScalarAsync(cancellationToken) is not true)
            {
                logger.LogInformation("Another replica is migrating the control-plane database; waiting for it");
                // No command timeout: the other replica's migrations may take longer than 30 seconds.
                await using var waitLock = new NpgsqlCommand("SELECT pg_advisory_lock($1, $2)", session) { CommandTimeout = 0, Parameters = { new() { Value = LockClass }, new() { Value = LockMigrations } } };
                await waitLock.ExecuteNonQueryAsync(cancellationToken);
            }

            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }
}
