using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Taidon.Infrastructure;
using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Tests.Support;

/// <summary>
/// One control-plane PostgreSQL for the whole test run, started through the product's embedded code
/// path in a temporary data directory and stopped when the test process exits.
/// </summary>
public static class TestControlPlane
{
    private static readonly Lazy<Task<EmbeddedControlPlane>> Shared = new(StartAsync);

    public static string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), $"taidon-tests-{Environment.ProcessId}");

    public static Task<EmbeddedControlPlane> GetAsync() => Shared.Value;

    /// <summary>A fresh, empty database in the shared cluster.</summary>
    public static async Task<string> CreateDatabaseAsync(string purpose)
    {
        var controlPlane = await GetAsync();
        var name = $"t_{purpose.ToLowerInvariant()}_{Guid.NewGuid():N}"[..Math.Min(40, purpose.Length + 35)];
        return await controlPlane.CreateDatabaseAsync(name, CancellationToken.None);
    }

    private static async Task<EmbeddedControlPlane> StartAsync()
    {
        RemoveLeftoversOfEarlierRuns();
        var controlPlane = await EmbeddedControlPlane.StartAsync(DataDirectory, new PostgresOptions(), NullLogger.Instance, CancellationToken.None);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            NpgsqlConnection.ClearAllPools();
            controlPlane.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
            TryDelete(DataDirectory);
        };
        return controlPlane;
    }

    private static void RemoveLeftoversOfEarlierRuns()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), "taidon-tests-*"))
        {
            var pid = int.TryParse(Path.GetFileName(directory)["taidon-tests-".Length..], out var p) ? p : 0;
            if (pid != Environment.ProcessId && !IsAlive(pid))
            {
                var pgData = Path.Combine(directory, "control-plane", "pgdata");
                if (File.Exists(Path.Combine(pgData, "postmaster.pid")))
                {
                    ProcessRunner.Run("pkill", ["-f", pgData], null, TimeSpan.FromSeconds(10));
                }

                TryDelete(directory);
            }
        }
    }

    private static bool IsAlive(int pid) => pid > 0 && Directory.Exists($"/proc/{pid}");

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next run to remove.
        }
    }
}
