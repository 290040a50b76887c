using Microsoft.EntityFrameworkCore;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.Persistence.Records;

namespace Taidon.Infrastructure.Persistence.Stores;

/// <summary>Runs in the control-plane database: one transaction a run, as before the application moved to Core.</summary>
public sealed class RunJournal(IDbContextFactory<ControlPlaneDbContext> contexts) : IRunJournal
{
    public async Task RecordAsync(RunRecord run, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Instances.Update(run.Instance);
        foreach (var layer in run.LayersTaken)
        {
            if (await db.Layers.FindAsync([layer.Key], cancellationToken) is null)
            {
                db.Layers.Add(layer);
            }
        }

        if (run.Restored is { } restored && await db.Layers.FindAsync([restored.ToString()], cancellationToken) is { } used)
        {
            used.Hits++;
            used.LastUsedAt = run.At;
        }

        foreach (var (before, after) in run.NoOps)
        {
            var (b, a) = (before.ToString(), after.ToString());
            if (await db.NoOpStatements.FindAsync([b, a], cancellationToken) is null)
            {
                db.NoOpStatements.Add(new NoOpStatementRecord { BeforeKey = b, AfterKey = a, SeenAt = run.At });
            }
        }

        if (run.History is { } entry)
        {
            db.RunHistory.Add(entry);
        }

        await db.SaveChangesAsync(cancellationToken);
        if (run.History is { } kept)
        {
            var keptSince = await db.RunHistory.Where(r => r.OwnerId == kept.OwnerId)
                .OrderByDescending(r => r.StartedAt)
                .Skip(run.HistoryKept)
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
