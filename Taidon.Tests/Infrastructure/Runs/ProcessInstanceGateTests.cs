using Taidon.Infrastructure.Runs;

namespace Taidon.Tests.Infrastructure.Runs;

public sealed class ProcessInstanceGateTests
{
    [Fact]
    public async Task OneRunAtATimePerInstanceAndOthersDoNotWait()
    {
        var gate = new ProcessInstanceGate();
        var instance = Guid.NewGuid();
        var held = await gate.EnterAsync(instance, CancellationToken.None);

        var second = gate.EnterAsync(instance, CancellationToken.None).AsTask();
        var other = await gate.EnterAsync(Guid.NewGuid(), CancellationToken.None);
        await Task.Delay(50);
        Assert.False(second.IsCompleted);

        await held.DisposeAsync();
        await (await second).DisposeAsync();
        await other.DisposeAsync();
    }

    [Fact]
    public async Task AGateGoesWithItsLastHolderOrWaiter()
    {
        var gate = new ProcessInstanceGate();
        for (var i = 0; i < 1000; i++)
        {
            await (await gate.EnterAsync(Guid.NewGuid(), CancellationToken.None)).DisposeAsync();
        }

        Assert.Equal(0, gate.Count);

        var instance = Guid.NewGuid();
        var held = await gate.EnterAsync(instance, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var waiting = gate.EnterAsync(instance, cancel.Token).AsTask();
        var queued = gate.EnterAsync(instance, CancellationToken.None).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(1, gate.Count);

        await held.DisposeAsync();
        await held.DisposeAsync();
        Assert.Equal(1, gate.Count);
        await (await queued).DisposeAsync();
        Assert.Equal(0, gate.Count);
    }
}
