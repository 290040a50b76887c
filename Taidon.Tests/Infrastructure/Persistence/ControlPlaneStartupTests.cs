using System.Globalization;
using System.Text.RegularExpressions;
using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Taidon.Infrastructure.Jobs;
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

    [Fact]
    public async Task HangfiresSchemaIsInstalledOnlyUnderTheStartupLock()
    {
        var connection = await TestControlPlane.CreateDatabaseAsync("hangfirelock");
        // Another replica's start, as this one sees it: the startup lock is held (not pooled: closing it releases the lock).
        await using var other = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection) { Pooling = false }.ConnectionString);
        await other.OpenAsync();
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock($1, $2)", other) { Parameters = { new() { Value = ControlPlaneStartup.LockClass }, new() { Value = ControlPlaneStartup.LockMigrations } } })
        {
            await take.ExecuteNonQueryAsync();
        }

        await using var replica = new TaidonAppFactory(connection, new Dictionary<string, string?> { ["Taidon:Jobs:RunServer"] = "true" });
        var starting = Task.Run(() => replica.CreateClient().Dispose());
        // By the time the replica waits for the lock it has built its services, mapped the dashboard and made its hosted services.
        await UntilAsync(async () => await ScalarAsync<long>(connection, $"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = {ControlPlaneStartup.LockClass} AND objid = {ControlPlaneStartup.LockMigrations} AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") > 0);
        Assert.False(starting.IsCompleted);
        Assert.Equal(0L, await ScalarAsync<long>(connection, $"SELECT count(*) FROM pg_namespace WHERE nspname = '{HangfireSchema.Name}'"));

        await other.CloseAsync();
        await starting.WaitAsync(TimeSpan.FromMinutes(2));
        await AssertHangfireSchemaCompleteAsync(connection);
    }

    [Fact]
    public async Task ReplicasStartingTogetherOnAFreshControlPlaneFindHangfiresSchemaInstalledOnce()
    {
        // A few fresh databases: whether two installs collide depends on timing.
        for (var round = 0; round < 3; round++)
        {
            var connection = await TestControlPlane.CreateDatabaseAsync("hangfireonce");
            var replicas = Enumerable.Range(0, 2).Select(_ => new TaidonAppFactory(connection, new Dictionary<string, string?> { ["Taidon:Jobs:RunServer"] = "true" })).ToList();
            try
            {
                await Task.WhenAll(replicas.Select(replica => Task.Run(() => replica.CreateClient().Dispose())));
                foreach (var replica in replicas)
                {
                    using var client = replica.CreateClient();
                    Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
                }

                await AssertHangfireSchemaCompleteAsync(connection);
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

    /// <summary>Every install script of the package applied once: one version row, the latest, and the tables.</summary>
    private static async Task AssertHangfireSchemaCompleteAsync(string connection)
    {
        var latest = typeof(PostgreSqlObjectsInstaller).Assembly.GetManifestResourceNames()
            .Select(name => Regex.Match(name, @"\.Install\.v(\d+)\.sql$"))
            .Where(match => match.Success)
            .Max(match => int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.Equal(1L, await ScalarAsync<long>(connection, $"SELECT count(*) FROM {HangfireSchema.Name}.schema"));
        Assert.Equal(latest, await ScalarAsync<int>(connection, $"SELECT version::int FROM {HangfireSchema.Name}.schema"));
        var tables = await ScalarAsync<string[]>(connection, $"SELECT array_agg(table_name::text ORDER BY table_name) FROM information_schema.tables WHERE table_schema = '{HangfireSchema.Name}'");
        Assert.Superset(new HashSet<string> { "counter", "hash", "job", "jobparameter", "jobqueue", "list", "lock", "schema", "server", "set", "state" }, tables.ToHashSet());
    }

    private static async Task<T> ScalarAsync<T>(string connection, string sql)
    {
        await using var session = new NpgsqlConnection(connection);
        await session.OpenAsync();
        await using var command = new NpgsqlCommand(sql, session);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the replica did not come to wait for the startup lock");
            await Task.Delay(50);
        }
    }
}
