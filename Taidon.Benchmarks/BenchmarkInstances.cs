using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Taidon.Core.Instances;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.LocalRuntime.Snapshots;

namespace Taidon.Benchmarks;

/// <summary>
/// The embedded runtime in a folder of its own for a run harness: instances made through it are deleted
/// with it, and so are its layers (through the store: a sealed btrfs layer is read-only, a recursive delete could not).
/// </summary>
internal sealed class BenchmarkInstances : IAsyncDisposable
{
    private readonly List<Guid> _created = [];
    private readonly string _root;

    /// <param name="directory">Where the instances and layers go (its filesystem picks the layer driver); the temp directory by default.</param>
    public BenchmarkInstances(string? directory)
    {
        _root = Path.Combine(directory ?? Path.GetTempPath(), $"tdnb-{Guid.NewGuid():N}"[..13]);
        Directory.CreateDirectory(_root);
        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        var binaries = PostgresBinaries.Locate(null);
        Engine = EngineIdentity.PostgreSql(binaries.MajorVersion);
        Layers = LayerStore.Open(Path.Combine(_root, "layers"), TimeProvider.System, NullLogger.Instance);
        Runtime = new LocalInstanceRuntime(Path.Combine(_root, "i"), binaries, OsUser.ForPostgres(null), Layers, Engine, NullLogger<LocalInstanceRuntime>.Instance);
    }

    public EngineIdentity Engine { get; }

    public LayerStore Layers { get; }

    public LocalInstanceRuntime Runtime { get; }

    /// <summary>A new instance in the base state.</summary>
    public async Task<Guid> CreateAsync(InstanceLimits limits)
    {
        var id = Guid.NewGuid();
        _created.Add(id);
        await Runtime.CreateAsync(id, limits, CancellationToken.None);
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _created)
        {
            await Runtime.DeleteAsync(id, CancellationToken.None);
        }

        NpgsqlConnection.ClearAllPools();
        foreach (var layer in Layers.List())
        {
            await Layers.RemoveAsync(layer.Key, CancellationToken.None);
        }

        Directory.Delete(_root, recursive: true);
    }
}
