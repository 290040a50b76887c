using Microsoft.EntityFrameworkCore;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.Persistence.Stores;

/// <summary>Runs in the control-plane database: one transaction a run, as before the application moved to Core.</summary>
public sealed class RunJournal(IDbContextFactory<ControlPlaneDbContext> contexts) : IRunJournal
{
    public async Task RecordAsync(RunRecord run, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        // A class runs the same course: two runs learn the same fact or account for the same layer at
        // the same moment. Inserts that skip what is there and an increment in place keep both.
        foreach (var layer in run.LayersTaken)
        {
            await db.Database.ExecuteSqlAsync(
                $"""
                INSERT INTO snapshot_layers ("Key", "ParentKey", "SizeBytes", "BuildCostMilliseconds", "CreatedAt", "LastUsedAt", "Hits", "OwnerId")
                VALUES ({layer.Key}, {layer.ParentKey}, {layer.SizeBytes}, {layer.BuildCostMilliseconds}, {layer.CreatedAt}, {layer.LastUsedAt}, 0, {layer.OwnerId})
                ON CONFLICT ("Key") DO NOTHING
                """, cancellationToken);
        }

        if (run.Restored is { } restored)
        {
            var key = restored.ToString();
            // A student's layer that another account restores (a course's test script, unedited) is the course's from then on.
            var account = run.Instance.OwnerId;
            await db.Layers.Where(l => l.Key == key).ExecuteUpdateAsync(
                l => l.SetProperty(x => x.Hits, x => x.Hits + 1).SetProperty(x => x.LastUsedAt, run.At)
                    .SetProperty(x => x.OwnerId, x => x.OwnerId == account ? x.OwnerId : null),
                cancellationToken);
        }

        foreach (var (before, after) in run.NoOps)
        {
            await db.Database.ExecuteSqlAsync(
                $"""
                INSERT INTO no_op_statements ("BeforeKey", "AfterKey", "SeenAt") VALUES ({before.ToString()}, {after.ToString()}, {run.At})
                ON CONFLICT DO NOTHING
                """, cancellationToken);
        }

        db.Instances.Update(run.Instance);
        if (run.History is { } entry)
        {
            db.RunHistory.Add(entry);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (run.History is { } kept && run.HistoryKept is { } keep)
        {
            var keptSince = await db.RunHistory.Where(r => r.OwnerId == kept.OwnerId)
                .OrderByDescending(r => r.StartedAt)
                .Skip(keep)
                .Select(r => (DateTimeOffset?)r.StartedAt)
                .FirstOrDefaultAsync(cancellationToken);
            if (keptSince is { } oldest)
            {
                await db.RunHistory.Where(r => r.OwnerId == kept.OwnerId && r.StartedAt <= oldest).ExecuteDeleteAsync(cancellationToken);
            }
        }
    }

    public async Task<IReadOnlyList<(ChainKey Before, ChainKey After)>> NoOpsFromAsync(IReadOnlyCollection<ChainKey> before, CancellationToken cancellationToken)
    {
        var keys = before.Select(k => k.ToString()).ToList();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var found = await db.NoOpStatements.AsNoTracking().Where(n => keys.Contains(n.BeforeKey)).ToListAsync(cancellationToken);
        return [.. found.Select(n => (ChainKey.Parse(n.BeforeKey), ChainKey.Parse(n.AfterKey)))];
    }

    public async Task<IReadOnlyList<RunHistoryEntry>> HistoryAsync(string ownerId, int take, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.RunHistory.AsNoTracking()
            .Where(r => r.OwnerId == ownerId)
            .OrderByDescending(r => r.StartedAt)
            .Take(take)
            .ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<RunTally>> TallySinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.RunHistory.AsNoTracking().Where(r => r.StartedAt >= since)
            .Select(r => new RunTally(r.StartedAt, r.Outcome == "failed", r.Start != RunStartKind.RestoreLayer || r.FromKey != null))
            .ToListAsync(cancellationToken);
    }
}
