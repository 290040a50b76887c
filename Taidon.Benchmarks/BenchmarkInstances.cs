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
    private readonly InstanceStorage? _storage;

    /// <param name="directory">Where the instances and layers go (its filesystem picks the layer driver); the temp directory by default.</param>
    /// <param name="copyOnWrite">
    /// <c>auto</c> or <c>off</c>: the folder is prepared as the app prepares its data directory
    /// (<c>Taidon:Storage:CopyOnWrite</c>; on ext4 as root, <c>auto</c> makes and mounts the app's own btrfs image
    /// in it, 8 GB and sparse). Null: instances and layers go straight into the folder.
    /// </param>
    public BenchmarkInstances(string? directory, string? copyOnWrite = null)
    {
        _root = Path.Combine(directory ?? Path.GetTempPath(), $"tdnb-{Guid.NewGuid():N}"[..13]);
        Directory.CreateDirectory(_root);
        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        var (instances, layers) = (Path.Combine(_root, "i"), Path.Combine(_root, "layers"));
        if (copyOnWrite is not null)
        {
            _storage = InstanceStorage.Prepare(_root, new StorageOptions { CopyOnWrite = copyOnWrite, ImageGigabytes = 8 }, NullLogger.Instance);
            (instances, layers) = (_storage.Instances, _storage.Snapshots);
        }

        var binaries = PostgresBinaries.Locate(null);
        Engine = EngineIdentity.PostgreSql(binaries.MajorVersion);
        Layers = LayerStore.Open(layers, TimeProvider.System, NullLogger.Instance);
        Runtime = new LocalInstanceRuntime(instances, binaries, OsUser.ForPostgres(null), Layers, Engine, NullLogger<LocalInstanceRuntime>.Instance);
    }

    /// <summary>Where the instances are, in words: the layer driver, and the app's own image when it made one.</summary>
    public string Storage => _storage?.MountedImage is { } image ? $"{Layers.Driver.Name} (the app's own image {image} on the folder's filesystem)" : Layers.Driver.Name;

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

        _storage?.Release(NullLogger.Instance);
        Directory.Delete(_root, recursive: true);
    }
}
