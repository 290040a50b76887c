using System.Globalization;
using Microsoft.Extensions.Logging;
using Taidon.Core.Common;
using Taidon.Core.Runs;
using Taidon.Core.Snapshots;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Instances;

/// <summary>
/// Keeps <see cref="InstanceOptions.WarmPoolSize"/> instances started in the base state and owned by
/// nobody. Creating an instance claims one (two replicas never hand out the same one) and the pool
/// refills in the background (<see cref="RefillWanted"/>). Pooled instances are instances like any
/// other: reconciliation sees them, and the lifecycle job recycles them when they expire.
/// </summary>
public sealed class WarmPool(
    IInstanceStore instances,
    ILayerLedger layers,
    IInstanceRuntime runtime,
    IEngineIdentitySource engine,
    InstanceOptions options,
    DiskReserve disk,
    ISettingStore settings,
    IInstanceGate gates,
    TimeProvider clock,
    ILogger<WarmPool> logger)
{
    /// <summary>The control-plane setting that holds the lesson, so that every replica (and the app after a restart) sees it.</summary>
    public const string LessonSetting = "warm-pool.lesson";

    /// <summary>The refill takes the instance gate of this id, which no instance has: one replica refills at a time.</summary>
    public static readonly Guid RefillGate = new("7461646f-6e00-7761-726d-2d706f6f6c00");

    /// <summary>How long a replica goes by the lesson it read before it reads it again.</summary>
    private static readonly TimeSpan LessonFreshFor = TimeSpan.FromSeconds(5);

    private Lesson? _lesson;
    private DateTimeOffset _lessonReadAt = DateTimeOffset.MinValue;

    /// <summary>
    /// A lesson's hold on the pool: <see cref="Size"/> instances waiting in <see cref="State"/> until
    /// <see cref="Until"/>; the students who got an instance since <see cref="Planned"/> have theirs.
    /// </summary>
    public sealed record Lesson(int Size, ChainKey State, DateTimeOffset Until, DateTimeOffset Planned)
    {
        public string Format() => string.Join('|', Size.ToString(CultureInfo.InvariantCulture), State, Until.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), Planned.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));

        public static Lesson? Parse(string? text) =>
            text?.Split('|') is [var size, var state, var until, var planned]
            && int.TryParse(size, CultureInfo.InvariantCulture, out var students)
            && ChainKey.TryParse(state, out var key)
            && long.TryParse(until, CultureInfo.InvariantCulture, out var end)
            && long.TryParse(planned, CultureInfo.InvariantCulture, out var start)
                ? new Lesson(students, key, DateTimeOffset.FromUnixTimeMilliseconds(end), DateTimeOffset.FromUnixTimeMilliseconds(start))
                : null;
    }

    /// <summary>Raised when an instance was claimed, or a lesson asked for more: the refill loop wakes.</summary>
    public event Action? RefillWanted;

    /// <summary>Instances the pool held at its last refill (those of a lesson that ended are given back at the next).</summary>
    public int Pooled { get; private set; }

    /// <summary>The lesson holding the pool now, as this replica last read it.</summary>
    public Lesson? LessonNow => _lesson is { } lesson && lesson.Until > clock.GetUtcNow() ? lesson : null;

    /// <summary>Whether the pool has work: a size, a lesson (read again from the control plane), or instances to give back.</summary>
    public async Task<bool> IsWantedAsync(CancellationToken cancellationToken) =>
        options.WarmPoolSize > 0 || Pooled > 0 || await ReadLessonAsync(cancellationToken) is not null;

    /// <summary>
    /// Until <paramref name="until"/>, the pool keeps <paramref name="size"/> instances started and waiting in
    /// <paramref name="state"/> (a class's course, its layer built): a class arriving at once claims them
    /// instead of starting an instance each. After it, the pool goes back to its setting.
    /// </summary>
    public async Task HoldForLessonAsync(int size, ChainKey state, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var lesson = new Lesson(size, state, until, clock.GetUtcNow());
        await settings.SetAsync(LessonSetting, lesson.Format(), cancellationToken);
        (_lesson, _lessonReadAt) = (lesson, clock.GetUtcNow());
        RefillWanted?.Invoke();
    }

    /// <summary>The lesson now, read from the control plane when this replica's copy is older than a few seconds.</summary>
    private async Task<Lesson?> ReadLessonAsync(CancellationToken cancellationToken)
    {
        if (clock.GetUtcNow() - _lessonReadAt >= LessonFreshFor)
        {
            (_lesson, _lessonReadAt) = (Lesson.Parse(await settings.GetAsync(LessonSetting, cancellationToken)), clock.GetUtcNow());
        }

        return LessonNow;
    }

    /// <summary>
    /// The pool's size now: the setting, or while a lesson lasts what its class has not taken yet (a
    /// student's claim is not replaced: the class is one instance a student, not two), within the cap.
    /// Students who got an instance since the lesson was planned, on any replica, have taken theirs.
    /// </summary>
    private async Task<int> TargetAsync(Lesson? lesson, CancellationToken cancellationToken)
    {
        var forLesson = lesson is null ? 0 : Math.Max(0, lesson.Size - await instances.CountOwnedSinceAsync(lesson.Planned, cancellationToken));
        return Math.Min(options.MaxTotal, Math.Max(options.WarmPoolSize, forLesson));
    }

    /// <summary>Takes a started instance for <paramref name="ownerId"/>, or null when the pool is empty.</summary>
    public async Task<Instance?> ClaimAsync(string ownerId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        if (options.WarmPoolSize == 0 && await ReadLessonAsync(cancellationToken) is null)
        {
            return null;
        }

        while (true)
        {
            var claimed = await instances.ClaimPooledAsync(ownerId, now, expiresAt, cancellationToken);
            RefillWanted?.Invoke();
            if (claimed is null)
            {
                return null;
            }

            try
            {
                // Normally running already; after a restart of the app it starts here.
                await runtime.StartAsync(claimed.Id, Limits, cancellationToken);
                return claimed;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Pooled instance {InstanceId} did not start; it is discarded", claimed.Id);
                await runtime.DeleteAsync(claimed.Id, CancellationToken.None);
                await instances.RemoveAsync(claimed.Id, CancellationToken.None);
            }
        }
    }

    /// <summary>Brings the pool to its size: discards unowned instances that are not pooled, starts stopped ones, creates the rest.</summary>
    public async Task<int> RefillAsync(CancellationToken cancellationToken)
    {
        await using var held = await gates.EnterAsync(RefillGate, cancellationToken);
        return await FillAsync(cancellationToken);
    }

    private async Task<int> FillAsync(CancellationToken cancellationToken)
    {
        var unowned = (await instances.AllAsync(cancellationToken)).Where(i => i.OwnerId is null).ToList();
        foreach (var instance in unowned.Where(i => i.State != InstanceState.Pooled))
        {
            await runtime.DeleteAsync(instance.Id, cancellationToken);
            await instances.RemoveAsync(instance.Id, cancellationToken);
        }

        var ready = 0;
        // A lesson's start is a layer (its warm-up kept it); should the cache have dropped it since, the instances wait where most runs go.
        var lessonNow = await ReadLessonAsync(cancellationToken);
        var popular = lessonNow?.State is { } lesson && runtime.HasLayer(lesson) ? lesson : await PopularStateAsync(cancellationToken);
        var target = await TargetAsync(lessonNow, cancellationToken);
        foreach (var instance in unowned.Where(i => i.State == InstanceState.Pooled))
        {
            if (ready >= target)
            {
                // A lesson is over: what it held beyond the setting goes.
                await runtime.DeleteAsync(instance.Id, cancellationToken);
                await instances.RemoveAsync(instance.Id, cancellationToken);
                continue;
            }

            if (!await runtime.IsRunningAsync(instance.Id, cancellationToken))
            {
                await runtime.StartAsync(instance.Id, Limits, cancellationToken);
            }

            if (popular is { } state && instance.StateKey != state.ToString())
            {
                // What most students work on has changed: the waiting instance moves there (unless claimed meanwhile).
                await instances.MoveWhileUnclaimedAsync(instance.Id, state.ToString(), ct => runtime.RestoreAsync(instance.Id, state, Limits, ct), cancellationToken);
            }

            ready++;
        }

        var created = 0;
        for (; ready + created < target; created++)
        {
            if (await instances.CountAsync(null, cancellationToken) >= options.MaxTotal || disk.Short() is not null)
            {
                // Waiting instances would take what students' own instances need (slots, or the disk's last room).
                break;
            }

            var instance = Instance.New(null, InstanceState.Pooled, engine.Identity.Root, clock.GetUtcNow(), TimeSpan.FromHours(options.LifetimeHours));
            await runtime.CreateAsync(instance.Id, Limits, cancellationToken);
            if (popular is { } state)
            {
                await runtime.RestoreAsync(instance.Id, state, Limits, cancellationToken);
                instance.StateKey = state.ToString();
            }

            await instances.AddAsync(instance, cancellationToken);
        }

        if (created > 0)
        {
            logger.LogInformation("Warm pool: {Created} instances started, {Size} ready", created, ready + created);
        }

        Pooled = ready + created;
        return created;
    }

    /// <summary>
    /// The layer most runs restored (the state of the course most students work on), when
    /// <see cref="InstanceOptions.WarmPoolAtPopularState"/> is on: a pooled instance waits in that state, so
    /// a new student's first run of that course needs no restore at all.
    /// </summary>
    private async Task<ChainKey?> PopularStateAsync(CancellationToken cancellationToken)
    {
        if (!options.WarmPoolAtPopularState)
        {
            return null;
        }

        foreach (var candidate in await layers.MostRestoredAsync(5, cancellationToken))
        {
            if (ChainKey.TryParse(candidate, out var key) && runtime.HasLayer(key))
            {
                return key;
            }
        }

        return null;
    }

    private InstanceLimits Limits => options.ToLimits();
}
