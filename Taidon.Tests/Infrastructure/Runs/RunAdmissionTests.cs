using Taidon.Core.Quotas;
using Taidon.Core.Runs;
using Taidon.Infrastructure.Runs;

namespace Taidon.Tests.Infrastructure.Runs;

/// <summary>The admission of runs: a bounded number at once, the rest wait their turn in order with their place known, past the queue "busy".</summary>
public sealed class RunAdmissionTests
{
    private static ProcessRunAdmission Admission(int concurrent, int queued, int maxWaitSeconds = 60) =>
        new(new AdmissionOptions { ConcurrentRuns = concurrent, QueuedRuns = queued, MaxWaitSeconds = maxWaitSeconds }, TimeProvider.System);

    [Fact]
    public async Task WithoutASettingFiveRunsACoreGoAtOnceAndTheNextWaits()
    {
        // A run spends much of its time waiting (a PostgreSQL start, a btrfs commit, the wire): five a core keep the cores busy.
        var options = new AdmissionOptions();
        Assert.Equal(5 * Environment.ProcessorCount, options.EffectiveConcurrentRuns);
        var admission = new ProcessRunAdmission(options, TimeProvider.System);
        var turns = new List<IAsyncDisposable>();
        for (var i = 0; i < options.EffectiveConcurrentRuns; i++)
        {
            turns.Add(await admission.EnterAsync(null, CancellationToken.None));
        }

        var next = admission.EnterAsync(null, CancellationToken.None);
        Assert.False(next.IsCompleted);
        await turns[0].DisposeAsync();
        await (await next).DisposeAsync();
        foreach (var turn in turns.Skip(1))
        {
            await turn.DisposeAsync();
        }
    }

    [Fact]
    public async Task RunsPastTheLimitWaitInOrderAndLearnTheirPlaceAsItMoves()
    {
        var admission = Admission(concurrent: 1, queued: 10);
        var first = await admission.EnterAsync(null, CancellationToken.None);
        var places = new List<int>();
        var second = admission.EnterAsync(p => { lock (places) { places.Add(p); } }, CancellationToken.None);
        var third = admission.EnterAsync(null, CancellationToken.None);

        Assert.False(second.IsCompleted);
        Assert.Equal((1, 2), admission.Load);
        Assert.Equal([1], places);

        await first.DisposeAsync();
        var secondTurn = await second;
        Assert.False(third.IsCompleted);
        await secondTurn.DisposeAsync();
        await (await third).DisposeAsync();

        Assert.Equal((0, 0), admission.Load);
    }

    [Fact]
    public async Task AFullQueueRefusesAsBusyWithWhenToComeBack()
    {
        var admission = Admission(concurrent: 1, queued: 1);
        await using var running = await admission.EnterAsync(null, CancellationToken.None);
        var waiting = admission.EnterAsync(null, CancellationToken.None);

        var busy = await Assert.ThrowsAsync<InstallationAtCapacityException>(() => admission.EnterAsync(null, CancellationToken.None));

        Assert.Contains("busy", busy.Message, StringComparison.Ordinal);
        Assert.True(busy.RetryAfter >= TimeSpan.FromSeconds(1));
        Assert.False(waiting.IsCompleted);
    }

    [Fact]
    public async Task AWaitPastTheLimitIsBusyAndAStoppedWaitLeavesTheQueue()
    {
        var admission = Admission(concurrent: 1, queued: 10, maxWaitSeconds: 1);
        var running = await admission.EnterAsync(null, CancellationToken.None);

        await Assert.ThrowsAsync<InstallationAtCapacityException>(() => admission.EnterAsync(null, CancellationToken.None));

        using var stop = new CancellationTokenSource();
        var stopped = admission.EnterAsync(null, stop.Token);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stopped);
        Assert.Equal((1, 0), admission.Load);

        await running.DisposeAsync();
        await (await admission.EnterAsync(null, CancellationToken.None)).DisposeAsync();
        Assert.Equal((0, 0), admission.Load);
    }
}
