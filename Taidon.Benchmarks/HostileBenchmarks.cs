using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.LocalRuntime.Snapshots;
using Taidon.Infrastructure.Sql;

namespace Taidon.Benchmarks;

/// <summary>
/// What a hostile run costs the app's memory, run with <c>-- --hostile</c> (<c>--smoke</c>: small sizes, to
/// keep it working). Each case runs through the runner as the app runs it, on a real instance, while the
/// process's working set is sampled every 10 ms; the peak growth over the idle process is printed next to a
/// baseline in the same process: the same output read whole, as the runner did before its bounds.
/// </summary>
public static class HostileBenchmarks
{
    public static async Task RunAsync(bool smoke)
    {
        var notices = smoke ? 20_000 : 2_000_000;
        var baselineNotices = smoke ? 2_000 : 200_000;
        var valueBytes = smoke ? 10_000_000L : 1_000_000_000L;
        var baselineValueBytes = smoke ? 3_000_000L : 300_000_000L;
        var limits = new InstanceLimits(StatementTimeout: TimeSpan.FromSeconds(300), Memory: "4Gi");

        var root = Path.Combine(Path.GetTempPath(), $"tdnh-{Guid.NewGuid():N}"[..13]);
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        var binaries = PostgresBinaries.Locate(null);
        var engine = EngineIdentity.PostgreSql(binaries.MajorVersion);
        var layers = LayerStore.Open(Path.Combine(root, "layers"), TimeProvider.System, NullLogger.Instance);
        var runtime = new LocalInstanceRuntime(Path.Combine(root, "i"), binaries, OsUser.ForPostgres(null), layers, engine, NullLogger<LocalInstanceRuntime>.Instance);
        var executor = new RunExecutor(runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System);
        var instance = Guid.NewGuid();
        try
        {
            var connection = await runtime.CreateAsync(instance, limits, CancellationToken.None);
            Console.WriteLine("| case | peak growth of the app | baseline (read whole) | its peak growth |");
            Console.WriteLine("| --- | --- | --- | --- |");

            var flood = $"DO $$BEGIN FOR i IN 1..{notices} LOOP RAISE NOTICE '%', repeat('n', 1000); END LOOP; END$$;";
            // Read whole: with the default bounds the flood is stopped after 10,000 notices (see the neighbour below).
            var readWhole = new ResultLimits(MaxNoticesPerStatement: notices / 100);
            var (bounded, took) = await PeakGrowthAsync(() => RunAsync(executor, engine, instance, limits, flood, readWhole));
            var (whole, _) = await PeakGrowthAsync(() => ReadWholeAsync(connection, $"DO $$BEGIN FOR i IN 1..{baselineNotices} LOOP RAISE NOTICE '%', repeat('n', 1000); END LOOP; END$$;"));
            Report($"{notices:N0} notices of 1 KB ({took.TotalSeconds:F1} s)", bounded, $"{baselineNotices:N0} notices kept whole", whole);

            (bounded, took) = await PeakGrowthAsync(() => RunAsync(executor, engine, instance, limits, $"SELECT repeat('x', {valueBytes});"));
            (whole, _) = await PeakGrowthAsync(() => ReadWholeAsync(connection, $"SELECT repeat('x', {baselineValueBytes});"));
            Report($"one value of {valueBytes / 1_000_000:N0} MB ({took.TotalSeconds:F1} s)", bounded, $"a value of {baselineValueBytes / 1_000_000:N0} MB read whole", whole);

            // Another student meanwhile: a course's query, hot, alone and during a flood on the first instance.
            var neighbour = Guid.NewGuid();
            await runtime.CreateAsync(neighbour, limits, CancellationToken.None);
            try
            {
                var course = ChainAnalysis.Analyze([new SqlSource("init/01.sql", "CREATE TABLE pets (id int, name text);\nINSERT INTO pets SELECT g, 'pet ' || g FROM generate_series(1, 10000) g;"),
                    new SqlSource("test/01.sql", "SELECT count(*), max(name) FROM pets WHERE id % 7 = 3;")], engine);
                ChainKey? state = null;
                async Task<TimeSpan> NeighbourAsync()
                {
                    var result = await executor.RunAsync(new ChainRun(neighbour, limits, course, 2, 3, state, new ResultLimits()), null, CancellationToken.None);
                    state = result.FinalState;
                    return result.Duration;
                }

                await NeighbourAsync();
                var alone = new List<TimeSpan>();
                for (var i = 0; i < (smoke ? 5 : 40); i++)
                {
                    alone.Add(await NeighbourAsync());
                }

                async Task NeighbourDuringAsync(string how, Task flooding)
                {
                    var during = new List<TimeSpan>();
                    while (!flooding.IsCompleted)
                    {
                        during.Add(await NeighbourAsync());
                        await Task.Delay(20);
                    }

                    await flooding;
                    var (p95Alone, p95During) = (P95(alone), P95(during.Count > 0 ? during : alone));
                    Console.WriteLine($"| a neighbour's hot run during the flood ({how}), p95 of {during.Count} | {p95During.TotalMilliseconds:F1} ms | p95 of {alone.Count} alone | {p95Alone.TotalMilliseconds:F1} ms ({p95During / p95Alone:F2}x) |");
                }

                // Twice: with the default bounds (stopped after 10,000 notices), and read whole as above.
                await NeighbourDuringAsync("stopped at 10,000 notices", RunAsync(executor, engine, instance, limits, flood));
                await NeighbourDuringAsync("read whole", RunAsync(executor, engine, instance, limits, flood, readWhole));
            }
            finally
            {
                await runtime.DeleteAsync(neighbour, CancellationToken.None);
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await runtime.DeleteAsync(instance, CancellationToken.None);
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Runs a hostile case; a flood of notices ends stopped (54000), anything else must succeed.</summary>
    private static async Task RunAsync(RunExecutor executor, EngineIdentity engine, Guid instance, InstanceLimits limits, string script, ResultLimits? bounds = null)
    {
        var chain = ChainAnalysis.Analyze([new SqlSource("hostile.sql", script)], engine);
        var result = await executor.RunAsync(new ChainRun(instance, limits, chain, 0, chain.Statements.Count, null, bounds ?? new ResultLimits()), null, CancellationToken.None);
        var error = result.Outcomes[^1].Error;
        if (!result.Succeeded && error?.SqlState != "54000")
        {
            throw new InvalidOperationException($"The hostile case failed: {error?.Message}");
        }
    }

    /// <summary>The runner before its bounds: every notice kept, every value read whole.</summary>
    private static async Task ReadWholeAsync(InstanceConnection instance, string sql)
    {
        await using var connection = new NpgsqlConnection(NpgsqlSqlSessionFactory.ConnectionString(instance, "baseline"));
        await connection.OpenAsync();
        var notices = new List<string>();
        connection.Notice += (_, e) => notices.Add($"{e.Notice.Severity}: {e.Notice.MessageText}");
        await using var command = new NpgsqlCommand(sql, connection) { AllResultTypesAreUnknown = true };
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                values.Add(reader.GetString(i));
            }
        }

        GC.KeepAlive(values);
        GC.KeepAlive(notices);
    }

    /// <summary>The largest working set seen while <paramref name="action"/> ran, over the idle process's.</summary>
    private static async Task<(long Bytes, TimeSpan Took)> PeakGrowthAsync(Func<Task> action)
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var idle = process.WorkingSet64;
        var peak = idle;
        using var done = new CancellationTokenSource();
        var sampling = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
                await Task.Delay(10);
            }
        });
        var started = Stopwatch.GetTimestamp();
        await action();
        var took = Stopwatch.GetElapsedTime(started);
        await done.CancelAsync();
        await sampling;
        return (peak - idle, took);
    }

    private static TimeSpan P95(List<TimeSpan> times) => times.Order().ElementAt(Math.Min(times.Count - 1, (int)Math.Ceiling(times.Count * 0.95) - 1));

    private static void Report(string what, long bytes, string baselineName, long baseline) =>
        Console.WriteLine($"| {what} | {bytes / 1048576.0:F0} MB | {baselineName} | {baseline / 1048576.0:F0} MB |");
}
