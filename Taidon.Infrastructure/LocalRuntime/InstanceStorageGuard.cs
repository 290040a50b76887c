using Microsoft.Extensions.Logging;
using Npgsql;
using Taidon.Core.Instances;

namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>
/// The embedded runtime's disk bound: while a run uses an instance, its files are measured every
/// <see cref="Interval"/> from <see cref="FirstLook"/> on; once they grow past the plan's storage, the
/// student's statement is cancelled (the run reports "your database is full", and the next run restores,
/// dropping what the statement wrote). A filesystem quota would be exact, but needs quota mount options
/// on the data directory's filesystem; this holds on any of them, past what the instance held at the first look,
/// within what one statement can write in an interval. Most runs end before the first look: a measure walks a
/// thousand files, and a look at every run's start was the app's largest cost in the kernel under a class (perf).
/// </summary>
public sealed class InstanceStorageGuard(LocalInstanceRuntime runtime, ILogger<InstanceStorageGuard> logger) : IStorageGuard
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan FirstLook = TimeSpan.FromSeconds(1);

    public IStorageWatch Watch(Guid instanceId, InstanceLimits limits) => new StorageWatch(this, instanceId, limits.StorageMegabytes * 1024L * 1024);

    private sealed class StorageWatch : IStorageWatch
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _watching;

        public StorageWatch(InstanceStorageGuard guard, Guid instanceId, long limit) =>
            _watching = Task.Run(() => WatchAsync(guard, instanceId, limit, _stop.Token));

        public long? ExceededBytes { get; private set; }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _watching;
            _stop.Dispose();
        }

        private async Task WatchAsync(InstanceStorageGuard guard, Guid instanceId, long limit, CancellationToken stop)
        {
            try
            {
                await Task.Delay(FirstLook, stop);

                // An instance already past its bound (a plan made smaller) may still be read: only growth past it
                // stops a statement, so the first look is the baseline.
                var last = guard.Measure(instanceId);
                using var timer = new PeriodicTimer(Interval);
                while (await timer.WaitForNextTickAsync(stop))
                {
                    var size = guard.Measure(instanceId);
                    if (size > limit && size > last)
                    {
                        ExceededBytes = size;
                        await guard.CancelAsync(instanceId, size, limit, stop);
                    }

                    last = Math.Max(last, size);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The run is over.
            }
            catch (Exception e)
            {
                // A watch that fails must not fail the run it watches; the run's statements stay bounded in time.
                guard.WatchFailed(instanceId, e);
            }
        }
    }

    private long Measure(Guid instanceId)
    {
        try
        {
            return runtime.DiskBytes(instanceId, dataOnly: true);
        }
        catch (IOException)
        {
            // A directory went away while it was counted (a sort's temporary files): the next tick counts again.
            return 0;
        }
    }

    private void WatchFailed(Guid instanceId, Exception e) =>
        logger.LogWarning(e, "The disk watch of instance {InstanceId} stopped", instanceId);

    private async Task CancelAsync(Guid instanceId, long size, long limit, CancellationToken stop)
    {
        logger.LogInformation("Instance {InstanceId} grew to {Bytes} bytes, past its {Limit}: cancelling its statement", instanceId, size, limit);
        try
        {
            await runtime.CancelStudentStatementsAsync(instanceId, stop);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // The instance is restarting (a layer being taken): the next tick tries again.
            logger.LogDebug(e, "Could not cancel the statements of instance {InstanceId}", instanceId);
        }
    }
}
