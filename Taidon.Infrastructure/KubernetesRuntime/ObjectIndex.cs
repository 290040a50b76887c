using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>
/// What the API server holds of one kind of object (the runtime's pods, or its VolumeSnapshots), kept
/// current by a watch: a list, then a watch from the list's resource version, again after the server
/// ends it, and a new list after an error (backing off up to 30 s). Waiting for a pod to be ready or a
/// snapshot to be cut is waiting for the watch to bring it: no polling.
/// </summary>
public sealed class ObjectIndex<T>(
    Func<CancellationToken, Task<(IReadOnlyList<T> Items, string? ResourceVersion)>> list,
    Func<string?, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Object)>> watch,
    ILogger logger) : IWatchedIndex, IAsyncDisposable
    where T : IKubernetesObject<V1ObjectMeta>
{
    private readonly ConcurrentDictionary<string, T> _objects = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _listed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly List<Action> _waiters = [];
    private Task? _loop;
    private long _version;
    private Exception? _lastError;
    private DateTimeOffset? _failingSince;

    public IReadOnlyCollection<T> Objects => [.. _objects.Values];

    /// <summary>How long the server is asked to keep a watch open.</summary>
    public static readonly TimeSpan WatchTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The resource version the index has caught up with (API servers backed by etcd number them in order).</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Whether the index has seen everything up to <paramref name="resourceVersion"/> (true when it is not a number).</summary>
    public bool HasSeen(string? resourceVersion) => !long.TryParse(resourceVersion, out var wanted) || Version >= wanted;

    /// <summary>Starts the list and watch once; returns when the first list is in, or throws when it is not in within <paramref name="timeout"/>.</summary>
    public async Task StartAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _loop ??= Task.Run(() => RunAsync(_stopping.Token));
        }

        try
        {
            await _listed.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException(
                $"The Kubernetes API did not list the {typeof(T).Name} objects within {timeout.TotalSeconds:0} s" +
                (_lastError is null ? "." : $": {KubernetesCalls.Describe(_lastError)}."));
        }
    }

    public T? Find(string name) => _objects.GetValueOrDefault(name);

    /// <summary>Whether the first list is in (until then the index knows nothing).</summary>
    public bool IsListed => _listed.Task.IsCompleted;

    /// <summary>Since when listing or watching has failed with no success since (null while it works), and the last failure.</summary>
    public (DateTimeOffset Since, string Problem)? Failing
    {
        get
        {
            lock (_gate)
            {
                return _failingSince is { } since && _lastError is { } error ? (since, KubernetesCalls.Describe(error)) : null;
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="done"/> says yes for the object as the watch last saw it (null when it
    /// does not exist). <paramref name="done"/> may throw to give up (a pod that failed).
    /// </summary>
    public async Task<T?> WaitAsync(string name, Func<T?, bool> done, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await StartAsync(timeout, cancellationToken);
        var finished = new TaskCompletionSource<T?>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            try
            {
                var current = Find(name);
                if (done(current))
                {
                    finished.TrySetResult(current);
                }
            }
            catch (Exception e)
            {
                finished.TrySetException(e);
            }
        }

        lock (_gate)
        {
            _waiters.Add(Check);
        }

        try
        {
            Check();
            return await finished.Task.WaitAsync(timeout, cancellationToken);
        }
        finally
        {
            lock (_gate)
            {
                _waiters.Remove(Check);
            }
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var (items, version) = await list(stopping);
                var names = items.Select(i => i.Metadata.Name).ToHashSet(StringComparer.Ordinal);
                foreach (var gone in _objects.Keys.Where(k => !names.Contains(k)))
                {
                    _objects.TryRemove(gone, out _);
                }

                foreach (var item in items)
                {
                    _objects[item.Metadata.Name] = item;
                }

                // The objects and the version first, then the waiters: they check both.
                Advance(version);
                Notify();
                _listed.TrySetResult();
                lock (_gate)
                {
                    _failingSince = null;
                }

                backoff = TimeSpan.FromMilliseconds(250);
                while (!stopping.IsCancellationRequested)
                {
                    // The server ends a watch after its timeout; one that stays silent far longer is a dead connection.
                    using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    watchdog.CancelAfter(WatchTimeout + TimeSpan.FromSeconds(30));
                    Exception? reported = null;
                    var events = 0;
                    await foreach (var (type, item) in watch(version, e => reported ??= e, watchdog.Token))
                    {
                        events++;
                        if (type == WatchEventType.Error)
                        {
                            // A Status (410 Gone: the version is too old), not an object: list again.
                            throw new InvalidOperationException("The watch reported an error; listing again.");
                        }

                        if (item?.Metadata is null)
                        {
                            continue;
                        }

                        version = item.Metadata.ResourceVersion ?? version;
                        switch (type)
                        {
                            case WatchEventType.Added or WatchEventType.Modified:
                                _objects[item.Metadata.Name] = item;
                                Advance(version);
                                Notify();
                                break;
                            case WatchEventType.Deleted:
                                _objects.TryRemove(item.Metadata.Name, out _);
                                Advance(version);
                                Notify();
                                break;
                            case WatchEventType.Bookmark:
                                Advance(version);
                                Notify();
                                break;
                        }
                    }

                    // An error event (410 Gone: the version is too old) ends the watch: list again, after a pause.
                    if (reported is not null)
                    {
                        throw new InvalidOperationException($"The watch failed ({reported.Message}); listing again.", reported);
                    }

                    if (events == 0 && !stopping.IsCancellationRequested)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1), stopping);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    _lastError = e;
                    _failingSince ??= DateTimeOffset.UtcNow;
                }

                logger.LogWarning("Watching {Kind} failed ({Problem}); listing again in {Delay} ms", typeof(T).Name, KubernetesCalls.Describe(e), (int)backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    private void Advance(string? version)
    {
        if (long.TryParse(version, out var seen) && seen > Interlocked.Read(ref _version))
        {
            Interlocked.Exchange(ref _version, seen);
        }
    }

    /// <summary>Lets every waiter look again (at the objects and the version).</summary>
    private void Notify()
    {
        Action[] waiters;
        lock (_gate)
        {
            waiters = [.. _waiters];
        }

        foreach (var waiter in waiters)
        {
            waiter();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        _stopping.Dispose();
    }
}

/// <summary>How a watched index stands, whatever it holds (for readiness).</summary>
public interface IWatchedIndex
{
    /// <summary>Whether the first list is in.</summary>
    bool IsListed { get; }

    /// <summary>Since when listing or watching has failed with no success since, and the last failure; null while it works.</summary>
    (DateTimeOffset Since, string Problem)? Failing { get; }
}
