using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Taidon.Core.Instances;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Persistence.Records;

namespace Taidon.Infrastructure.Runs;

/// <summary>
/// Keeps <see cref="InstanceOptions.WarmPoolSize"/> instances started in the base state and owned by
/// nobody. Creating an instance claims one (a row lock, so two replicas never hand out the same one)
/// and the pool refills in the background. Pooled instances are records like any other: reconciliation
/// sees them, and the lifecycle job recycles them when they expire.
/// </summary>
public sealed class WarmPool(
    IDbContextFactory<ControlPlaneDbContext> contexts,
    IInstanceRuntime runtime,
    EngineIdentityProvider engine,
    IOptions<InstanceOptions> options,
    TimeProvider clock,
    ILogger<WarmPool> logger) : BackgroundService
{
    private readonly SemaphoreSlim _refill = new(0, int.MaxValue);
    private readonly SemaphoreSlim _filling = new(1, 1);

    /// <summary>Takes a started base-state instance for <paramref name="ownerId"/>, or null when the pool is empty.</summary>
    public async Task<InstanceRecord?> ClaimAsync(ControlPlaneDbContext db, string ownerId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        if (options.Value.WarmPoolSize == 0)
        {
            return null;
        }

        while (true)
        {
            var claimed = await db.Database.SqlQuery<Guid>(
                $"""
                UPDATE instances SET "OwnerId" = {ownerId}, "State" = 'Running', "CreatedAt" = {now}, "LastActivityAt" = {now}, "ExpiresAt" = {expiresAt}
                WHERE "Id" = (SELECT "Id" FROM instances WHERE "State" = 'Pooled' AND "OwnerId" IS NULL ORDER BY "CreatedAt" LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING "Id" AS "Value"
                """).ToListAsync(cancellationToken);
            _refill.Release();
            if (claimed.Count == 0)
            {
                return null;
            }

            try
            {
                // Normally running already; after a restart of the app it starts here.
                await runtime.StartAsync(claimed[0], Limits, cancellationToken);
                return await db.Instances.AsNoTracking().SingleAsync(i => i.Id == claimed[0], cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Pooled instance {InstanceId} did not start; it is discarded", claimed[0]);
                await runtime.DeleteAsync(claimed[0], CancellationToken.None);
                await db.Instances.Where(i => i.Id == claimed[0]).ExecuteDeleteAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>Brings the pool to its size: discards pooled records whose instance failed, starts stopped ones, creates the rest.</summary>
    public async Task<int> RefillAsync(CancellationToken cancellationToken)
    {
        await _filling.WaitAsync(cancellationToken);
        try
        {
            return await FillAsync(cancellationToken);
        }
        finally
        {
            _filling.Release();
        }
    }

    private async Task<int> FillAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var pooled = await db.Instances.Where(i => i.OwnerId == null).ToListAsync(cancellationToken);
        foreach (var record in pooled.Where(r => r.State != InstanceState.Pooled))
        {
            await runtime.DeleteAsync(record.Id, cancellationToken);
            db.Instances.Remove(record);
        }

        await db.SaveChangesAsync(cancellationToken);
        var ready = 0;
        var popular = await PopularStateAsync(db, cancellationToken);
        foreach (var record in pooled.Where(r => r.State == InstanceState.Pooled))
        {
            if (!await runtime.IsRunningAsync(record.Id, cancellationToken))
            {
                await runtime.StartAsync(record.Id, Limits, cancellationToken);
            }

            if (popular is { } state && record.StateKey != state.ToString())
            {
                // What most students work on has changed: the waiting instance moves there. (A row lock keeps a claim out meanwhile.)
                await using var moving = await db.Database.BeginTransactionAsync(cancellationToken);
                var stillPooled = await db.Database.SqlQuery<Guid>(
                    $"""SELECT "Id" AS "Value" FROM instances WHERE "Id" = {record.Id} AND "OwnerId" IS NULL FOR UPDATE SKIP LOCKED""").ToListAsync(cancellationToken);
                if (stillPooled.Count == 1)
                {
                    await runtime.RestoreAsync(record.Id, state, Limits, cancellationToken);
                    record.StateKey = state.ToString();
                    await db.SaveChangesAsync(cancellationToken);
                }

                await moving.CommitAsync(cancellationToken);
            }

            ready++;
        }

        var created = 0;
        for (; ready + created < options.Value.WarmPoolSize; created++)
        {
            if (await db.Instances.CountAsync(cancellationToken) >= options.Value.MaxTotal)
            {
                // Waiting instances would take what students' own instances need.
                break;
            }

            var now = clock.GetUtcNow();
            var record = new InstanceRecord
            {
                Id = Guid.CreateVersion7(now),
                State = InstanceState.Pooled,
                StateKey = engine.Identity.Root.ToString(),
                CreatedAt = now,
                LastActivityAt = now,
                ExpiresAt = now.AddHours(options.Value.LifetimeHours),
            };
            await runtime.CreateAsync(record.Id, Limits, cancellationToken);
            if (popular is { } state)
            {
                await runtime.RestoreAsync(record.Id, state, Limits, cancellationToken);
                record.StateKey = state.ToString();
            }

            db.Instances.Add(record);
            await db.SaveChangesAsync(cancellationToken);
        }

        if (created > 0)
        {
            logger.LogInformation("Warm pool: {Created} instances started, {Size} ready", created, ready + created);
        }

        return created;
    }

    /// <summary>
    /// The layer most runs restored (the state of the course most students work on), when
    /// <see cref="InstanceOptions.WarmPoolAtPopularState"/> is on: a pooled instance waits in that state, so
    /// a new student's first run of that course needs no restore at all.
    /// </summary>
    private async Task<ChainKey?> PopularStateAsync(ControlPlaneDbContext db, CancellationToken cancellationToken)
    {
        if (!options.Value.WarmPoolAtPopularState)
        {
            return null;
        }

        var candidates = await db.Layers.AsNoTracking().Where(l => l.Hits > 0).OrderByDescending(l => l.Hits).Select(l => l.Key).Take(5).ToListAsync(cancellationToken);
        foreach (var candidate in candidates)
        {
            if (ChainKey.TryParse(candidate, out var key) && runtime.HasLayer(key))
            {
                return key;
            }
        }

        return null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.WarmPoolSize == 0)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefillAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "The warm pool could not be refilled; it tries again in a minute");
            }

            try
            {
                await _refill.WaitAsync(TimeSpan.FromMinutes(1), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private InstanceLimits Limits => options.Value.ToLimits();
}
