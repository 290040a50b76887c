using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Infrastructure.Persistence;

public sealed class ControlPlaneStartupTests
{
    [Fact]
    public async Task ReplicasStartingTogetherOnAFreshControlPlaneMigrateAndSeedItOnce()
    {
        var connection = await TestControlPlane.CreateDatabaseAsync("migrateonce");
        // EF Core logs each migration it applies at Information.
        var settings = new Dictionary<string, string?> { ["Logging:LogLevel:Microsoft.EntityFrameworkCore.Migrations"] = "Information" };
        var replicas = Enumerable.Range(0, 3).Select(_ => new TaidonAppFactory(connection, settings)).ToList();
        try
        {
            // Started together on the thread pool, as replicas of one Deployment are.
            await Task.WhenAll(replicas.Select(replica => Task.Run(() => replica.CreateClient().Dispose())));

            foreach (var replica in replicas)
            {
                using var client = replica.CreateClient();
                Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
            }

            await using var db = await replicas[0].Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
            var migrations = db.Database.GetMigrations().ToList();
            Assert.Equal(migrations, await db.Database.GetAppliedMigrationsAsync());
            var applying = replicas.SelectMany(r => r.Logs.Messages).Where(m => m.Contains("Applying migration", StringComparison.Ordinal)).ToList();
            Assert.Equal(migrations.Count, applying.Count);
            Assert.All(migrations, m => Assert.Single(applying, a => a.Contains(m, StringComparison.Ordinal)));
            Assert.Equal(Taidon.Core.Accounts.TaidonRoles.All.Count, await db.Roles.CountAsync());
            Assert.Single(await db.Users.Where(u => u.Email == TaidonAppFactory.AdminEmail).ToListAsync());
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }
}
