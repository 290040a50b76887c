using Microsoft.Extensions.Logging.Abstractions;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime.Snapshots;

namespace Taidon.Tests.Infrastructure.LocalRuntime;

public sealed class LayerStoreTests : IDisposable
{
    private static readonly ChainKey Base = EngineIdentity.PostgreSql(15).Root;
    private static readonly ChainKey Key = Base.Next("create table t(id int)");

    private readonly string _root = Directory.CreateTempSubdirectory("taidon-layers-").FullName;
    private readonly string _source;

    public LayerStoreTests()
    {
        _source = Path.Combine(_root, "source");
        Directory.CreateDirectory(Path.Combine(_source, "base", "1"));
        File.WriteAllText(Path.Combine(_source, "PG_VERSION"), "15\n");
        File.WriteAllBytes(Path.Combine(_source, "base", "1", "16384"), [.. Enumerable.Range(0, 100_000).Select(i => (byte)i)]);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task APublishedLayerRestoresToAnIdenticalTree()
    {
        var store = Open();

        var layer = await store.PublishAsync(Key, Base, _source, CancellationToken.None);
        var target = Path.Combine(_root, "restored");
        await store.RestoreAsync(Key, target, CancellationToken.None);

        Assert.True(store.Contains(Key));
        Assert.Equal(2, layer.FileCount);
        Assert.Equal(100_003, layer.SizeBytes);
        Assert.Equal(Base, layer.Parent);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_source, "base", "1", "16384")), File.ReadAllBytes(Path.Combine(target, "base", "1", "16384")));
        Assert.Equal([Key], store.List().Select(l => l.Key));
    }

    [Fact]
    public async Task PublishingAStateTwiceKeepsOneLayer()
    {
        var store = Open();

        await store.PublishAsync(Key, Base, _source, CancellationToken.None);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => store.PublishAsync(Key, Base, _source, CancellationToken.None)));

        Assert.Single(store.List());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "store", "tmp")));
    }

    [Fact]
    public async Task ALayerWithAChangedByteIsDiscardedNotRestored()
    {
        var store = Open();
        await store.PublishAsync(Key, Base, _source, CancellationToken.None);
        var file = Directory.EnumerateFiles(Path.Combine(_root, "store", "layers"), "16384", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(file);
        bytes[5000] ^= 0xFF;
        File.WriteAllBytes(file, bytes);

        var error = await Assert.ThrowsAsync<SnapshotDamagedException>(() => store.RestoreAsync(Key, Path.Combine(_root, "restored"), CancellationToken.None));

        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
        Assert.Contains("rebuilt by replaying", error.Message, StringComparison.Ordinal);
        Assert.False(store.Contains(Key));
        Assert.False(Directory.Exists(Path.Combine(_root, "restored")));
    }

    [Fact]
    public async Task ATruncatedOrMissingFileIsDamage()
    {
        var store = Open();
        await store.PublishAsync(Key, Base, _source, CancellationToken.None);
        var file = Directory.EnumerateFiles(Path.Combine(_root, "store", "layers"), "PG_VERSION", SearchOption.AllDirectories).Single();
        File.Delete(file);

        var error = await Assert.ThrowsAsync<SnapshotDamagedException>(() => store.RestoreAsync(Key, Path.Combine(_root, "restored"), CancellationToken.None));

        Assert.Contains("1 files where the manifest lists 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHalfWrittenLayerIsNeverFoundAndIsCleanedAtTheNextStart()
    {
        var store = Open();
        await store.PublishAsync(Key, Base, _source, CancellationToken.None);
        // A crash while building (left in tmp), and a layer directory without its manifest.
        Directory.CreateDirectory(Path.Combine(_root, "store", "tmp", "building", "data"));
        var other = Base.Next("create table u(id int)");
        Directory.CreateDirectory(Path.Combine(_root, "store", "layers", other.ToString(), "data"));
        Assert.False(store.Contains(other));

        var reopened = Open();

        Assert.Equal([Key], reopened.List().Select(l => l.Key));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "store", "tmp")));
        Assert.False(Directory.Exists(Path.Combine(_root, "store", "layers", other.ToString())));
    }

    [Fact]
    public async Task ARemovedLayerIsGoneAtOnce()
    {
        var store = Open();
        await store.PublishAsync(Key, Base, _source, CancellationToken.None);

        Assert.True(await store.RemoveAsync(Key, CancellationToken.None));

        Assert.False(store.Contains(Key));
        Assert.Empty(store.List());
        Assert.False(await store.RemoveAsync(Key, CancellationToken.None));
    }

    [Fact]
    public void OnExt4OrTmpfsTheCopyDriverIsChosen()
    {
        Assert.Equal("copy", Open().Driver.Name);
    }

    private LayerStore Open() => LayerStore.Open(Path.Combine(_root, "store"), TimeProvider.System, NullLogger.Instance);
}
