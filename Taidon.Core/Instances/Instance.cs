using Taidon.Core.SqlChain;

namespace Taidon.Core.Instances;

public enum InstanceState
{
    Running,
    Stopped,

    /// <summary>Its process was found dead or its files damaged: it is rebuilt from its state on the next run.</summary>
    Failed,

    /// <summary>Started in the base state and owned by nobody yet: the warm pool hands it to the next new instance.</summary>
    Pooled,

    /// <summary>Its files were dropped to keep instances under their disk budget (its state is in the cache): made again on its next run.</summary>
    Reclaimed,
}

/// <summary>
/// A student's PostgreSQL instance as the control plane keeps it: whose it is, what state it holds, and
/// how long it may live. The rules of its life are here; where its process runs is the runtime's.
/// </summary>
public sealed class Instance
{
    public Guid Id { get; set; }

    /// <summary>The account it belongs to; null while it waits in the warm pool.</summary>
    public string? OwnerId { get; set; }

    public InstanceState State { get; set; }

    /// <summary>The chain key of the database state it holds (lowercase hex), or null when unknown.</summary>
    public string? StateKey { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LastActivityAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>The state it holds, when known (a run trusts nothing else).</summary>
    public ChainKey? KnownState => ChainKey.TryParse(StateKey, out var key) ? key : null;

    /// <summary>A new instance of an account's, in the base state.</summary>
    public static Instance New(string? ownerId, InstanceState state, ChainKey baseState, DateTimeOffset now, TimeSpan lifetime) => new()
    {
        Id = Guid.CreateVersion7(now),
        OwnerId = ownerId,
        State = state,
        StateKey = baseState.ToString(),
        CreatedAt = now,
        LastActivityAt = now,
        ExpiresAt = now + lifetime,
    };

    /// <summary>Past its lifetime: it is deleted with its data.</summary>
    public bool HasExpired(DateTimeOffset now) => ExpiresAt <= now;

    /// <summary>Running, owned, and without a run for <paramref name="idleMinutes"/> (a minute at the least): it is stopped, keeping its data.</summary>
    public bool IsIdle(DateTimeOffset now, int idleMinutes) =>
        State == InstanceState.Running && OwnerId is not null && !HasExpired(now) && LastActivityAt <= now.AddMinutes(-Math.Max(1, idleMinutes));

    /// <summary>
    /// Stopped and owned: its files may be dropped, since a run rebuilds its state from the chain (a
    /// reclaimed instance comes back in the base state, and the run restores the nearest layer and replays).
    /// </summary>
    public bool CanBeReclaimed => State == InstanceState.Stopped && OwnerId is not null;

    /// <summary>
    /// Dropping its files costs nothing: its state is one the cache holds, or an unknown one, which the
    /// next run restores regardless. Otherwise its next run replays from the nearest layer.
    /// </summary>
    public bool ReclaimsFree(Func<ChainKey, bool> isCached) => KnownState is not { } state || isCached(state);

    /// <summary>Has no files (failed, or reclaimed): its next run makes it again before it runs.</summary>
    public bool NeedsRebuild => State is InstanceState.Failed or InstanceState.Reclaimed;

    /// <summary>After a run or a change: it runs, in the state the run left (null: unknown, the next run restores).</summary>
    public void Ran(ChainKey? state, DateTimeOffset now)
    {
        StateKey = state?.ToString();
        State = InstanceState.Running;
        LastActivityAt = now;
    }

    /// <summary>Moves the expiry later, from now when it is already past.</summary>
    public void Extend(TimeSpan by, DateTimeOffset now)
    {
        CheckExtension(by);
        ExpiresAt = (ExpiresAt > now ? ExpiresAt : now) + by;
    }

    /// <summary>An instance is extended by 1 hour to 365 days.</summary>
    public static void CheckExtension(TimeSpan by)
    {
        if (by <= TimeSpan.Zero || by > TimeSpan.FromDays(365))
        {
            throw new ArgumentOutOfRangeException(nameof(by), "Extend an instance by 1 hour to 365 days.");
        }
    }

    /// <summary>How audit rows name an instance.</summary>
    public static string AuditTarget(Guid instanceId) => "instance:" + instanceId;
}
