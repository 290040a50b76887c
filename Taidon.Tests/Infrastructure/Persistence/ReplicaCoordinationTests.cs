using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Taidon.Core.Runs;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Runs;
using Taidon.Tests.Support;

namespace Taidon.Tests.Infrastructure.Persistence;

/// <summary>What replicas of the app share through the control plane: the instance gate and the runs in progress, each replica an adapter of its own here.</summary>
public sealed class ReplicaCoordinationTests : IAsyncLifetime
{
    private TaidonAppFactory _app = null!;
    private ControlPlaneConnection _controlPlane = null!;

    public async Task InitializeAsync()
    {
        _app = await TaidonAppFactory.CreateAsync("replicas");
        // The app's start migrated the database.
        _controlPlane = new ControlPlaneConnection(_app.Services.GetRequiredService<ControlPlaneConnection>().ConnectionString, null);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task AnInstanceIsHeldByOneReplicaAtATimeAndAWaitGivenUpHoldsNothing()
    {
        var first = new AdvisoryInstanceGate(_controlPlane, NullLogger<AdvisoryInstanceGate>.Instance);
        var second = new AdvisoryInstanceGate(_controlPlane, NullLogger<AdvisoryInstanceGate>.Instance);
        var instance = Guid.NewGuid();

        var held = await first.EnterAsync(instance, CancellationToken.None);
        await using (await second.EnterAsync(Guid.NewGuid(), CancellationToken.None))
        {
            // Another instance is free.
        }

        var waiting = second.EnterAsync(instance, CancellationToken.None).AsTask();
        using (var givenUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.EnterAsync(instance, givenUp.Token).AsTask());
        }

        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);
        await held.DisposeAsync();
        await using (await waiting.WaitAsync(TimeSpan.FromSeconds(10)))
        {
        }

        // Nothing was left held: the first replica gets it at once.
        using var soon = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using (await first.EnterAsync(instance, soon.Token))
        {
        }
    }

    [Fact]
    public async Task ARunIsFollowedAndStoppedFromAnotherReplicaByItsOwnerAloneAndGoesWhenItEnds()
    {
        await using var here = new ControlPlaneActiveRuns(_controlPlane, TimeProvider.System, NullLogger<ControlPlaneActiveRuns>.Instance, TimeSpan.FromMilliseconds(100));
        await using var there = new ControlPlaneActiveRuns(_controlPlane, TimeProvider.System, NullLogger<ControlPlaneActiveRuns>.Instance, TimeSpan.FromMilliseconds(100));
        await here.StartAsync(CancellationToken.None);
        await there.StartAsync(CancellationToken.None);

        var run = here.Begin("owner-1", null, CancellationToken.None);
        run.Report(new RunProgress(2, 5, RunPhase.Running));
        var seen = await EventuallyAsync(async () => await there.FindAsync("owner-1", run.Id, CancellationToken.None) is { Progress.Current: 2 } r ? r : null);
        Assert.Equal(new RunProgress(2, 5, RunPhase.Running), seen.Progress);
        Assert.Equal(run.StartedAt.ToUnixTimeMilliseconds(), seen.StartedAt.ToUnixTimeMilliseconds());
        Assert.Equal([run.Id], (await there.OfOwnerAsync("owner-1", CancellationToken.None)).Select(r => r.Id));
        Assert.Null(await there.FindAsync("owner-2", run.Id, CancellationToken.None));
        Assert.Empty(await there.OfOwnerAsync("owner-2", CancellationToken.None));

        Assert.Null(await there.StopAsync("owner-2", run.Id, CancellationToken.None));
        await Task.Delay(300);
        Assert.False(run.StopRequested);
        var stopped = await there.StopAsync("owner-1", run.Id, CancellationToken.None);
        Assert.True(stopped!.StopRequested);
        await EventuallyAsync(() => Task.FromResult(run.StopRequested ? run : null));

        run.Dispose();
        await EventuallyAsync(async () => await there.FindAsync("owner-1", run.Id, CancellationToken.None) is null ? run : null);
        Assert.Empty(await there.OfOwnerAsync("owner-1", CancellationToken.None));
    }

    [Fact]
    public async Task ARunsRowsGoWithAReplicaThatStopsAndAnIdInUseElsewhereStaysStoppableWhereItRuns()
    {
        var here = new ControlPlaneActiveRuns(_controlPlane, TimeProvider.System, NullLogger<ControlPlaneActiveRuns>.Instance, TimeSpan.FromMilliseconds(100));
        await using var there = new ControlPlaneActiveRuns(_controlPlane, TimeProvider.System, NullLogger<ControlPlaneActiveRuns>.Instance, TimeSpan.FromMilliseconds(100));
        await here.StartAsync(CancellationToken.None);
        await there.StartAsync(CancellationToken.None);

        var run = here.Begin("owner-1", null, CancellationToken.None);
        await EventuallyAsync(() => there.FindAsync("owner-1", run.Id, CancellationToken.None));
        using var twin = there.Begin("owner-1", run.Id, CancellationToken.None);
        Assert.Equal(run.Id, (await there.StopAsync("owner-1", run.Id, CancellationToken.None))!.Id);
        Assert.True(twin.StopRequested);
        Assert.False(run.StopRequested);

        await here.StopAsync(CancellationToken.None);
        await here.DisposeAsync();
        run.Dispose();
        await EventuallyAsync(async () => (await there.OfOwnerAsync("owner-1", CancellationToken.None)).Count == 1 ? run : null);
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        for (var i = 0; i < 100; i++)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("Not seen within 10 s.");
    }
}
