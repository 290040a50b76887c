using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Taidon.Infrastructure.Identity;

namespace Taidon.Infrastructure.Persistence;

/// <summary>
/// Applies the control-plane migrations and creates the roles and the first admin before the app
/// serves anything; stops the embedded cluster last, when the host stops.
/// </summary>
public sealed class ControlPlaneStartup(
    ControlPlaneConnection connection,
    IServiceScopeFactory scopes,
    ILogger<ControlPlaneStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var contexts = scope.ServiceProvider.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>();
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            // Made first, so a fresh database does not log a failed query for the missing history table.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
            // Migrate takes a lock on the history table, so replicas starting together apply each migration once.
            await db.Database.MigrateAsync(cancellationToken);
            logger.LogInformation("The control-plane database is at migration {Migration}", (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).LastOrDefault());
        }

        await scope.ServiceProvider.GetRequiredService<AccountSeeder>().SeedAsync();
    }

    public Task StopAsync(CancellationToken cancellationToken) => connection.StopEmbeddedAsync();
}
