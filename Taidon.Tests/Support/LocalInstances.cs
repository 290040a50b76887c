using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Taidon.Core.Instances;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.LocalRuntime.Snapshots;

namespace Taidon.Tests.Support;

/// <summary>
/// The embedded runtime in a folder of its own (real PostgreSQL clusters, a real layer store), for tests of
/// what runs on instances; everything it made is deleted when it is disposed.
/// </summary>
public sealed class LocalInstances : IAsyncDisposable
{
    private readonly List<Guid> _created = [];

    private LocalInstances(string root)
    {
        Root = root;
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        Binaries = PostgresBinaries.Locate(null);
        Engine = EngineIdentity.PostgreSql(Binaries.MajorVersion);
        Runtime = new LocalInstanceRuntime(Path.Combine(root, "i"), Binaries, OsUser.ForPostgres(null),
            LayerStore.Open(Path.Combine(root, "layers"), TimeProvider.System, NullLogger.Instance), Engine, NullLogger<LocalInstanceRuntime>.Instance);
    }

    public string Root { get; }

    public PostgresBinaries Binaries { get; }

    public EngineIdentity Engine { get; }

    public LocalInstanceRuntime Runtime { get; }

    /// <summary>A runtime in a new folder under <paramref name="parent"/> (the temp directory by default; its filesystem picks the layer driver).</summary>
    public static LocalInstances Open(string? parent = null) => new(Path.Combine(parent ?? Path.GetTempPath(), $"tdn-{Guid.NewGuid():N}"[..12]));

    /// <summary>A new instance in the base state, deleted with the rest.</summary>
    public async Task<Guid> CreateAsync(InstanceLimits limits)
    {
        var id = Guid.NewGuid();
        _created.Add(id);
        await Runtime.CreateAsync(id, limits, CancellationToken.None);
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        foreach (var id in _created)
        {
            await Runtime.DeleteAsync(id, CancellationToken.None);
        }

        // Sealed btrfs layers are read-only subvolumes: the store removes them, a recursive delete could not.
        foreach (var layer in Runtime.Layers.List())
        {
            await Runtime.Layers.RemoveAsync(layer.Key, CancellationToken.None);
        }

        Directory.Delete(Root, recursive: true);
    }
}
