using Npgsql;
using Taidon.Core.Instances;
using Taidon.Infrastructure.Sql;
using Taidon.Tests.Support;

namespace Taidon.Tests.Infrastructure.LocalRuntime;

/// <summary>
/// What the embedded runtime leaves of the app's pooled connections. Npgsql's pools are process-wide and other
/// test classes clear them all when they end (it failed once in a full run that way), so these tests run alone.
/// </summary>
[Collection(ProcessWideConnectionPools.Name)]
public sealed class AppConnectionPoolTests
{
    private static readonly InstanceLimits Limits = new(MaxConnections: 4, StatementTimeout: TimeSpan.FromSeconds(2));

    [Fact]
    public async Task RestoresAndStopsLeaveTheAppsOtherPooledConnectionsOpen()
    {
        await using var instances = LocalInstances.Open();
        var runtime = instances.Runtime;

        // The control plane's pool stands for every pooled connection of the app: an instance's own are never pooled.
        var pooledInstance = await instances.CreateAsync(Limits);
        var pooled = await runtime.StartAsync(pooledInstance, Limits, CancellationToken.None);
        var pooledConnection = new NpgsqlConnectionStringBuilder(NpgsqlSqlSessionFactory.ConnectionString(pooled, "taidon-pool-test")) { Pooling = true }.ConnectionString;
        int backend;
        await using (var first = new NpgsqlConnection(pooledConnection))
        {
            await first.OpenAsync();
            backend = first.ProcessID;
        }

        var restored = await instances.CreateAsync(Limits);
        var key = instances.Engine.Root.Next("create table t(id int)");
        await using (var session = new NpgsqlConnection(NpgsqlSqlSessionFactory.ConnectionString(await runtime.StartAsync(restored, Limits, CancellationToken.None), "taidon-tests")))
        {
            await session.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE t (id int)", session);
            await create.ExecuteNonQueryAsync();
        }

        await (await runtime.CaptureAsync(restored, key, null, Limits, CancellationToken.None)).Published;
        await runtime.RestoreAsync(restored, key, Limits, CancellationToken.None);
        await runtime.StopAsync(restored, CancellationToken.None);

        // The same backend answers: its connection stayed in the pool (a cleared pool costs a new backend, and SCRAM, per query).
        await using var again = new NpgsqlConnection(pooledConnection);
        await again.OpenAsync();
        Assert.Equal(backend, again.ProcessID);
        NpgsqlConnection.ClearPool(again);
    }
}

/// <summary>Tests that watch Npgsql's process-wide pools, which other tests clear: they run after the others, alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideConnectionPools
{
    public const string Name = "Npgsql's process-wide connection pools";
}
