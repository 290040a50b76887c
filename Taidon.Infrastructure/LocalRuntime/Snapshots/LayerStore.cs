using System.IO.Hashing;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.LocalRuntime.Snapshots;

/// <summary>
/// Snapshot layers on this machine's disk: <c>&lt;root&gt;/layers/&lt;key&gt;/</c> holds <c>data/</c> (a copy of a
/// cluster's data directory, stopped or snapshotted whole while running) and <c>manifest.json</c> (every
/// file's size, and its XxHash128 unless the driver seals the layer: a read-only btrfs snapshot, whose
/// blocks the filesystem checksums, is not read whole at every publish and restore).
/// </summary>
/// <remarks>
/// A layer is built under <c>&lt;root&gt;/tmp</c> and renamed into place with its manifest already
/// written, so a crash never leaves a half-written layer where a restore would find it. A restore checks
/// every file against the manifest first; a layer that fails is removed and reported as damaged, never
/// restored. Two publishers of one key both build, the first rename wins and the other's copy is dropped.
/// </remarks>
public sealed class LayerStore : ISnapshotLayers
{
    private const string ManifestFileName = "manifest.json";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    private readonly System.Collections.Concurrent.ConcurrentDictionary<ChainKey, int> _inUse = new();

    /// <summary>
    /// Sealed layers found whole by this process: a read-only subvolume cannot change, so its files are
    /// counted and measured at its first restore, not at each (a layer's thousand files cost the app more
    /// than the restore itself under a class's load).
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ChainKey, byte> _foundWhole = new();
    private readonly string _layers;
    private readonly string _temporary;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private (long Bytes, long At) _total = (0, long.MinValue);

    private LayerStore(string root, ILayerDriver driver, TimeProvider clock, ILogger logger)
    {
        Root = root;
        Driver = driver;
        _layers = Path.Combine(root, "layers");
        _temporary = Path.Combine(root, "tmp");
        _clock = clock;
        _logger = logger;
    }

    public string Root { get; }

    public ILayerDriver Driver { get; }

    /// <summary>Opens (or creates) a store, with the btrfs driver when <paramref name="root"/> is on btrfs, else the copy driver.</summary>
    public static LayerStore Open(string root, TimeProvider clock, ILogger logger, ILayerDriver? driver = null)
    {
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        driver ??= BtrfsLayerDriver.Supports(root) ? new BtrfsLayerDriver() : new CopyLayerDriver();
        var store = new LayerStore(root, driver, clock, logger);
        Directory.CreateDirectory(store._layers);
        store.RemoveLeftovers();
        logger.LogInformation("Snapshot layers in {Root} use the {Driver} driver", root, driver.Name);
        return store;
    }

    public bool Contains(ChainKey key) => File.Exists(Path.Combine(LayerPath(key), ManifestFileName));

    /// <summary>The bytes all layers take, from their manifests (read again at most every 30 seconds).</summary>
    public long TotalBytes()
    {
        var now = _clock.GetTimestamp();
        if (_total.At == long.MinValue || _clock.GetElapsedTime(_total.At, now) > TimeSpan.FromSeconds(30))
        {
            _total = (List().Sum(l => l.SizeBytes), now);
        }

        return _total.Bytes;
    }

    public IReadOnlyList<SnapshotLayer> List() =>
        [.. Directory.EnumerateDirectories(_layers)
            .Select(d => ChainKey.TryParse(Path.GetFileName(d), out var key) ? TryReadManifest(key) : null)
            .OfType<Manifest>()
            .Select(m => m.ToLayer())
            .OrderBy(l => l.CreatedAt)];

    /// <summary>Stores the state in <paramref name="source"/> (a stopped cluster's data directory) under <paramref name="key"/>.</summary>
    public async Task<SnapshotLayer> PublishAsync(ChainKey key, ChainKey? parent, string source, CancellationToken cancellationToken) =>
        await await BeginPublishAsync(key, parent, source, cancellationToken);

    /// <summary>
    /// Copies <paramref name="source"/> now, and returns the rest of publishing it under <paramref name="key"/>
    /// (sealing, the manifest, the rename that makes it visible) as a task that goes on by itself: a running
    /// cluster's data directory, which the driver snapshots atomically (<see cref="ILayerDriver.SnapshotsLiveAsync"/>),
    /// may change as soon as this returns.
    /// </summary>
    public async Task<Task<SnapshotLayer>> BeginPublishAsync(ChainKey key, ChainKey? parent, string source, CancellationToken cancellationToken)
    {
        if (TryReadManifest(key) is { } existing)
        {
            return Task.FromResult(existing.ToLayer());
        }

        var building = Path.Combine(_temporary, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(building);
        var data = Path.Combine(building, "data");
        try
        {
            await Driver.CopyAsync(source, data, cancellationToken);
        }
        catch
        {
            await DeleteQuietlyAsync(building);
            throw;
        }

        return FinishPublishingAsync(key, parent, building, cancellationToken);
    }

    private async Task<SnapshotLayer> FinishPublishingAsync(ChainKey key, ChainKey? parent, string building, CancellationToken cancellationToken)
    {
        try
        {
            // A running cluster's copy names its postmaster: the instance restoring it would take that live process for its own.
            var data = Path.Combine(building, "data");
            File.Delete(Path.Combine(data, "postmaster.pid"));
            File.Delete(Path.Combine(data, "postmaster.opts"));
            var sealedLayer = await Driver.SealAsync(data, cancellationToken);
            var manifest = await Manifest.ScanAsync(key, parent, data, Driver.Name, _clock.GetUtcNow(), hash: !sealedLayer, cancellationToken);
            await using (var stream = new FileStream(Path.Combine(building, ManifestFileName), FileMode.CreateNew, FileAccess.Write))
            {
                await JsonSerializer.SerializeAsync(stream, manifest, Json, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            try
            {
                Directory.Move(building, LayerPath(key));
            }
            catch (IOException) when (Contains(key))
            {
                // Someone else published the same state first: theirs is as good as ours.
                await DeleteQuietlyAsync(building);
                return TryReadManifest(key)!.ToLayer();
            }

            _logger.LogInformation("Published snapshot layer {Key} ({Bytes} bytes in {Files} files)", key.Short, manifest.SizeBytes, manifest.Files.Count);
            return manifest.ToLayer();
        }
        catch
        {
            await DeleteQuietlyAsync(building);
            throw;
        }
    }

    /// <summary>
    /// Makes <paramref name="target"/> (which must not exist) a copy of the layer, after checking every
    /// file of the layer against its manifest. A damaged layer is removed and reported.
    /// </summary>
    public async Task<SnapshotLayer> RestoreAsync(ChainKey key, string target, CancellationToken cancellationToken)
    {
        _inUse.AddOrUpdate(key, 1, (_, count) => count + 1);
        try
        {
            return await RestoreInUseAsync(key, target, cancellationToken);
        }
        finally
        {
            _inUse.AddOrUpdate(key, 0, (_, count) => count - 1);
        }
    }

    /// <summary>Whether a restore is reading the layer now (the garbage collector leaves such a layer alone).</summary>
    public bool IsInUse(ChainKey key) => _inUse.TryGetValue(key, out var count) && count > 0;

    private async Task<SnapshotLayer> RestoreInUseAsync(ChainKey key, string target, CancellationToken cancellationToken)
    {
        var manifest = TryReadManifest(key) ?? throw new InvalidOperationException($"There is no snapshot layer {key.Short}.");
        var data = Path.Combine(LayerPath(key), "data");
        var damage = _foundWhole.ContainsKey(key) ? null : await manifest.FindDamageAsync(data, cancellationToken);
        if (damage is null && manifest.IsSealed)
        {
            _foundWhole.TryAdd(key, 0);
        }
        else if (damage is not null)
        {
            _logger.LogWarning("Snapshot layer {Key} is damaged ({Damage}); removing it", key.Short, damage);
            await RemoveAsync(key, cancellationToken);
            throw new SnapshotDamagedException(key, damage);
        }

        await Driver.CopyAsync(data, target, cancellationToken);
        return manifest.ToLayer();
    }

    /// <summary>Removes a layer; it disappears at once (renamed away), the files go after.</summary>
    public async Task<bool> RemoveAsync(ChainKey key, CancellationToken cancellationToken)
    {
        var path = LayerPath(key);
        _foundWhole.TryRemove(key, out _);
        if (!Directory.Exists(path))
        {
            return false;
        }

        var doomed = Path.Combine(_temporary, "removed-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_temporary);
        Directory.Move(path, doomed);
        await DeleteQuietlyAsync(doomed);
        return true;
    }

    private string LayerPath(ChainKey key) => Path.Combine(_layers, key.ToString());

    private Manifest? TryReadManifest(ChainKey key)
    {
        var file = Path.Combine(LayerPath(key), ManifestFileName);
        if (!File.Exists(file))
        {
            return null;
        }

        try
        {
            var manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllBytes(file), Json);
            return manifest is not null && manifest.Key == key.ToString() ? manifest : null;
        }
        catch (JsonException e)
        {
            _logger.LogWarning("The manifest of snapshot layer {Key} cannot be read ({Error})", key.Short, e.Message);
            return null;
        }
    }

    /// <summary>At start: layers being built or removed when a previous process stopped, and layers without a manifest, go.</summary>
    private void RemoveLeftovers()
    {
        if (Directory.Exists(_temporary))
        {
            foreach (var leftover in Directory.EnumerateDirectories(_temporary))
            {
                DeleteQuietlyAsync(leftover).GetAwaiter().GetResult();
            }
        }

        Directory.CreateDirectory(_temporary);
        foreach (var layer in Directory.EnumerateDirectories(_layers))
        {
            if (!File.Exists(Path.Combine(layer, ManifestFileName)))
            {
                _logger.LogWarning("Removing the incomplete snapshot layer {Layer}", Path.GetFileName(layer));
                DeleteQuietlyAsync(layer).GetAwaiter().GetResult();
            }
        }
    }

    private async Task DeleteQuietlyAsync(string path)
    {
        try
        {
            var data = Path.Combine(path, "data");
            if (Directory.Exists(data))
            {
                await Driver.DeleteAsync(data, CancellationToken.None);
            }

            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not remove {Path}: {Error}", path, e.Message);
        }
    }

    /// <summary>What a layer holds: every file's relative path, size and XxHash128.</summary>
    internal sealed record Manifest(string Key, string? Parent, DateTimeOffset CreatedAt, string Driver, long SizeBytes, List<ManifestFile> Files)
    {
        /// <summary>Whether the layer is read-only with its blocks checksummed by the filesystem (no checksums of its own).</summary>
        public bool IsSealed => Files.TrueForAll(f => f.XxHash128 is null);

        public SnapshotLayer ToLayer() =>
            new(ChainKey.Parse(Key), Parent is null ? null : ChainKey.Parse(Parent), SizeBytes, Files.Count, CreatedAt, Driver);

        public static async Task<Manifest> ScanAsync(ChainKey key, ChainKey? parent, string data, string driver, DateTimeOffset createdAt, bool hash, CancellationToken cancellationToken)
        {
            var files = new List<ManifestFile>();
            foreach (var file in new DirectoryInfo(data).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }))
            {
                var (size, sum) = hash ? await HashAsync(file.FullName, cancellationToken) : (file.Length, null);
                files.Add(new ManifestFile(Path.GetRelativePath(data, file.FullName), size, sum));
            }

            files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
            return new Manifest(key.ToString(), parent?.ToString(), createdAt, driver, files.Sum(f => f.Size), files);
        }

        /// <summary>Null when the layer's data matches the manifest, else what is wrong.</summary>
        public async Task<string?> FindDamageAsync(string data, CancellationToken cancellationToken)
        {
            if (!Directory.Exists(data))
            {
                return "its data is missing";
            }

            var present = Directory.EnumerateFiles(data, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }).Count();
            if (present != Files.Count)
            {
                return $"{present} files where the manifest lists {Files.Count}";
            }

            foreach (var expected in Files)
            {
                var path = Path.Combine(data, expected.Path);
                var info = new FileInfo(path);
                if (!info.Exists)
                {
                    return $"{expected.Path} is missing";
                }

                if (info.Length != expected.Size)
                {
                    return $"{expected.Path} has {info.Length} bytes, not {expected.Size}";
                }

                if (expected.XxHash128 is null)
                {
                    // A sealed layer: read-only, its blocks checksummed by the filesystem.
                    continue;
                }

                var (_, hash) = await HashAsync(path, cancellationToken);
                if (hash != expected.XxHash128)
                {
                    return $"{expected.Path} does not match its checksum";
                }
            }

            return null;
        }

        private static async Task<(long Size, string? Hash)> HashAsync(string path, CancellationToken cancellationToken)
        {
            var hash = new XxHash128();
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            await hash.AppendAsync(stream, cancellationToken);
            return (stream.Length, Convert.ToHexStringLower(hash.GetCurrentHash()));
        }
    }

    /// <summary>A file of a layer; <see cref="XxHash128"/> is null in a sealed layer.</summary>
    internal sealed record ManifestFile(string Path, long Size, string? XxHash128);
}
