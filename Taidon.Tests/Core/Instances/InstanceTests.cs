using Taidon.Core.Instances;
using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.Instances;

/// <summary>The rules of an instance's life, without a database: when it idles, when it expires, how far it is extended.</summary>
public sealed class InstanceTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly ChainKey Base = EngineIdentity.PostgreSql(15).Root;

    /// <summary>An instance made a day ago for a week, with no run for <paramref name="idleFor"/> (a pooled one without an owner).</summary>
    private static Instance Running(TimeSpan idleFor, string? owner = "ana")
    {
        var instance = Instance.New(owner, owner is null ? InstanceState.Pooled : InstanceState.Running, Base, Now - TimeSpan.FromDays(1), TimeSpan.FromDays(7));
        instance.LastActivityAt = Now - idleFor;
        return instance;
    }

    [Fact]
    public void AnInstanceIdlesOnceItsPlansMinutesPassWithoutARunAndNeverBeforeAMinute()
    {
        Assert.False(Running(TimeSpan.FromMinutes(14)).IsIdle(Now, idleMinutes: 15));
        Assert.True(Running(TimeSpan.FromMinutes(15)).IsIdle(Now, idleMinutes: 15));
        Assert.False(Running(TimeSpan.FromSeconds(30)).IsIdle(Now, idleMinutes: 0));
        Assert.True(Running(TimeSpan.FromMinutes(1)).IsIdle(Now, idleMinutes: 0));
    }

    [Fact]
    public void PooledStoppedAndExpiredInstancesAreNeverIdle()
    {
        Assert.False(Running(TimeSpan.FromHours(1), owner: null).IsIdle(Now, 15));

        var stopped = Running(TimeSpan.FromHours(1));
        stopped.State = InstanceState.Stopped;
        Assert.False(stopped.IsIdle(Now, 15));

        var expired = Running(TimeSpan.FromHours(1));
        expired.ExpiresAt = Now;
        Assert.True(expired.HasExpired(Now));
        Assert.False(expired.IsIdle(Now, 15));
    }

    [Fact]
    public void AnExtensionCountsFromTheExpiryOrFromNowWhenThatIsPastAndIsBounded()
    {
        var live = Running(TimeSpan.Zero);
        var expiry = live.ExpiresAt;
        live.Extend(TimeSpan.FromDays(2), Now);
        Assert.Equal(expiry + TimeSpan.FromDays(2), live.ExpiresAt);

        var past = Running(TimeSpan.Zero);
        past.ExpiresAt = Now - TimeSpan.FromDays(3);
        past.Extend(TimeSpan.FromHours(1), Now);
        Assert.Equal(Now + TimeSpan.FromHours(1), past.ExpiresAt);

        Assert.Throws<ArgumentOutOfRangeException>(() => live.Extend(TimeSpan.Zero, Now));
        Assert.Throws<ArgumentOutOfRangeException>(() => live.Extend(TimeSpan.FromDays(366), Now));
    }

    [Fact]
    public void ARunLeavesTheInstanceRunningInTheStateItNamesAndAnUnknownStateIsTrustedByNobody()
    {
        var instance = Running(TimeSpan.FromHours(1));
        var state = ChainAnalysis.Analyze([new SqlSource("a.sql", "CREATE TABLE t (id int);")], EngineIdentity.PostgreSql(15)).Keys[^1];

        instance.Ran(state, Now);
        Assert.Equal(state, instance.KnownState);
        Assert.Equal(Now, instance.LastActivityAt);

        instance.Ran(null, Now);
        Assert.Null(instance.StateKey);
        Assert.Null(instance.KnownState);
        Assert.Equal(InstanceState.Running, instance.State);
    }

    [Fact]
    public void CachedStatesGoFirstThenGuestsThenTheLongestUnusedAndOnlyStoppedOwnedInstancesGiveUpTheirFiles()
    {
        var now = DateTimeOffset.UtcNow;
        Instance Stopped(string owner, int idleHours)
        {
            var instance = Instance.New(owner, InstanceState.Stopped, Base, now.AddDays(-1), TimeSpan.FromDays(7));
            instance.LastActivityAt = now.AddHours(-idleHours);
            return instance;
        }

        var (ana, bob, guestNew, guestOld) = (Stopped("ana", 5), Stopped("bob", 1), Stopped("guest-1", 1), Stopped("guest-2", 3));

        var order = InstanceLifecycle.ReclaimOrder([(ana, true, false), (guestNew, true, true), (bob, true, false), (guestOld, true, true)]).Select(c => c.Instance.OwnerId);
        Assert.Equal(["guest-2", "guest-1", "ana", "bob"], order);

        // A state the cache does not hold is dropped last (its next run replays), a registered student's after a guest's.
        var replays = InstanceLifecycle.ReclaimOrder([(guestOld, false, true), (ana, false, false), (bob, true, false)]).Select(c => c.Instance.OwnerId);
        Assert.Equal(["bob", "guest-2", "ana"], replays);

        Assert.True(ana.CanBeReclaimed);
        Assert.False(ana.ReclaimsFree(_ => false));
        Assert.True(ana.ReclaimsFree(_ => true));
        ana.StateKey = null;
        Assert.True(ana.ReclaimsFree(_ => false));
        bob.State = InstanceState.Running;
        Assert.False(bob.CanBeReclaimed);
    }
}
