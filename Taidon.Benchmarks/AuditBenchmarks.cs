using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Taidon.Core.Audit;
using Taidon.Core.Instances;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.Audit;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.LocalRuntime.Snapshots;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Sql;

namespace Taidon.Benchmarks;

/// <summary>
/// The audit page over a million rows: the first page, a page deep in the log (keyset), and filtered
/// pages, each timed as the median of several reads, printed as ratios to the first page.
/// <c>dotnet run -c Release --project Taidon.Benchmarks -- --audit [--rows N]</c>.
/// </summary>
public static class AuditBenchmarks
{
    public static async Task RunAsync(int rows)
    {
        var root = Path.Combine(Path.GetTempPath(), $"tdna-{Guid.NewGuid():N}"[..13]);
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        var binaries = PostgresBinaries.Locate(null);
        var engine = EngineIdentity.PostgreSql(binaries.MajorVersion);
        var runtime = new LocalInstanceRuntime(Path.Combine(root, "i"), binaries, OsUser.ForPostgres(null),
            LayerStore.Open(Path.Combine(root, "layers"), TimeProvider.System, NullLogger.Instance), engine, NullLogger<LocalInstanceRuntime>.Instance);
        var id = Guid.NewGuid();
        try
        {
            // A PostgreSQL of its own, with the control plane's schema (migrations, indexes, the trigger).
            var connection = await runtime.CreateAsync(id, new InstanceLimits(StatementTimeout: TimeSpan.FromMinutes(10)), CancellationToken.None);
            var connectionString = NpgsqlSqlSessionFactory.ConnectionString(connection, "taidon-benchmark") + ";Pooling=true";
            var options = new DbContextOptionsBuilder<ControlPlaneDbContext>().UseNpgsql(connectionString).Options;
            var contexts = new PooledDbContextFactory<ControlPlaneDbContext>(options);
            await using (var db = await contexts.CreateDbContextAsync())
            {
                await db.Database.MigrateAsync();
                db.Database.SetCommandTimeout(TimeSpan.FromMinutes(10));
                var load = Stopwatch.StartNew();
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO audit_events ("At", "ActorId", "Action", "Target", "Outcome", "Detail", "ClientAddress")
                    SELECT now() - make_interval(secs => {rows} - g), 'account-' || (g % 5000), (ARRAY['run','account.sign-in','instance.create','git.push'])[1 + g % 4],
                           'instance:' || (g % 20000), 'Succeeded', 'row ' || g, '10.0.' || (g % 250) || '.1'
                    FROM generate_series(1, {rows}) AS g
                    """);
                await db.Database.ExecuteSqlRawAsync("ANALYZE audit_events");
                Console.WriteLine($"{rows:N0} audit rows loaded in {load.Elapsed.TotalSeconds:F0} s");
            }

            var audit = new AuditLog(contexts, TimeProvider.System, NullLogger<AuditLog>.Instance);
            var first = await MedianAsync(() => audit.SearchAsync(new AuditFilter(), null, 50, CancellationToken.None));

            // Deep: the cursor of a row 90 % of the way back.
            AuditCursor deepCursor;
            await using (var db = await contexts.CreateDbContextAsync())
            {
                var row = await db.AuditEvents.OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Skip(rows * 9 / 10).FirstAsync();
                deepCursor = new AuditCursor(row.At, row.Id);
            }

            var deep = await MedianAsync(() => audit.SearchAsync(new AuditFilter(), deepCursor, 50, CancellationToken.None));
            var byAction = await MedianAsync(() => audit.SearchAsync(new AuditFilter(Action: AuditActions.GitPush), null, 50, CancellationToken.None));
            var byActor = await MedianAsync(() => audit.SearchAsync(new AuditFilter(ActorId: "account-42"), null, 50, CancellationToken.None));
            var byActionDeep = await MedianAsync(() => audit.SearchAsync(new AuditFilter(Action: AuditActions.GitPush), deepCursor, 50, CancellationToken.None));

            Console.WriteLine($"first page of 50:                 {first:F2} ms (baseline 1.00)");
            Console.WriteLine($"page 90 % deep (keyset):          {deep:F2} ms ({deep / first:F2}x)");
            Console.WriteLine($"first page of one action:         {byAction:F2} ms ({byAction / first:F2}x)");
            Console.WriteLine($"first page of one account:        {byActor:F2} ms ({byActor / first:F2}x)");
            Console.WriteLine($"one action, 90 % deep:            {byActionDeep:F2} ms ({byActionDeep / first:F2}x)");
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await runtime.DeleteAsync(id, CancellationToken.None);
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<double> MedianAsync<T>(Func<Task<T>> read)
    {
        await read();
        var times = new List<double>();
        for (var i = 0; i < 21; i++)
        {
            var watch = Stopwatch.StartNew();
            await read();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        return times.Order().ElementAt(times.Count / 2);
    }
}
