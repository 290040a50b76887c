using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Taidon.Core.Audit;
using Taidon.Infrastructure.Persistence;

namespace Taidon.Infrastructure.Audit;

/// <summary>Settings of <c>Taidon:Audit</c>.</summary>
public sealed class AuditOptions
{
    public const string SectionName = "Taidon:Audit";

    /// <summary>How long audit rows are kept; older ones are deleted by a daily job (which audits itself).</summary>
    [Range(1, 3650, ErrorMessage = "Taidon:Audit:RetentionDays must be between 1 and 3650.")]
    public int RetentionDays { get; set; } = 365;
}

public sealed class AuditLog(IDbContextFactory<ControlPlaneDbContext> contexts, TimeProvider clock, ILogger<AuditLog> logger) : IAuditLog, IAuditTrail
{
    private const int MaxDetail = 2000;

    public async Task RecordAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        try
        {
            await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
            db.AuditEvents.Add(Entry(auditEvent, clock.GetUtcNow()));
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is DbUpdateException or Npgsql.NpgsqlException or InvalidOperationException)
        {
            // The action happened; losing its audit row is logged loudly rather than undoing it.
            logger.LogError(e, "Could not record audit event {Action} on {Target}", auditEvent.Action, auditEvent.Target);
        }
    }

    /// <summary>The row of an event, for a write that records it in its own transaction (it then stands or falls with the action).</summary>
    internal static AuditEntry Entry(AuditEvent auditEvent, DateTimeOffset at) => new()
    {
        At = at,
        ActorId = auditEvent.ActorId,
        Action = auditEvent.Action,
        Target = Cut(auditEvent.Target, 256),
        Outcome = auditEvent.Outcome,
        Detail = Cut(auditEvent.Detail, MaxDetail),
        ClientAddress = Cut(auditEvent.ClientAddress ?? AuditClient.Address, 64),
    };

    /// <summary>A page of the log, newest first, after <paramref name="after"/> (keyset paging: as fast on page 10,000 as on page 1).</summary>
    public async Task<IReadOnlyList<AuditEntry>> SearchAsync(AuditFilter filter, AuditCursor? after, int take, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var query = Filtered(db, filter);
        if (after is { } cursor)
        {
            // "At <= cursor" lets the index on (at, id) start at the cursor; the rest only settles ties.
            query = query.Where(e => e.At <= cursor.At && (e.At < cursor.At || e.Id < cursor.Id));
        }

        return await query.OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(Math.Clamp(take, 1, 1000)).ToListAsync(cancellationToken);
    }

    /// <summary>Every row the filter finds, newest first, read in pages (for the CSV export).</summary>
    public async IAsyncEnumerable<AuditEntry> StreamAsync(AuditFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        AuditCursor? after = null;
        while (true)
        {
            var page = await SearchAsync(filter, after, 1000, cancellationToken);
            foreach (var row in page)
            {
                yield return row;
            }

            if (page.Count < 1000)
            {
                yield break;
            }

            after = new AuditCursor(page[^1].At, page[^1].Id);
        }
    }

    private static IQueryable<AuditEntry> Filtered(ControlPlaneDbContext db, AuditFilter filter)
    {
        var query = db.AuditEvents.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(filter.ActorId))
        {
            query = query.Where(e => e.ActorId == filter.ActorId);
        }

        if (!string.IsNullOrWhiteSpace(filter.Action))
        {
            query = query.Where(e => e.Action == filter.Action);
        }

        if (!string.IsNullOrWhiteSpace(filter.Target))
        {
            query = query.Where(e => e.Target == filter.Target);
        }

        if (filter.From is { } from)
        {
            query = query.Where(e => e.At >= from);
        }

        if (filter.To is { } to)
        {
            query = query.Where(e => e.At < to);
        }

        return query;
    }

    private static string? Cut(string? text, int length) => text is { } t && t.Length > length ? t[..length] : text;
}

/// <summary>Deletes audit rows past the retention, in batches, and records that it did (a Hangfire job).</summary>
public sealed class AuditRetention(IDbContextFactory<ControlPlaneDbContext> contexts, IAuditLog audit, IOptions<AuditOptions> options, TimeProvider clock)
{
    private const int Batch = 10_000;

    public async Task<int> ApplyAsync(CancellationToken cancellationToken)
    {
        var before = clock.GetUtcNow().AddDays(-options.Value.RetentionDays);
        var deleted = 0;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        while (true)
        {
            var batch = await db.AuditEvents.Where(e => e.At < before).OrderBy(e => e.Id).Select(e => e.Id).Take(Batch).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            var last = batch[^1];
            deleted += await db.AuditEvents.Where(e => e.At < before && e.Id <= last).ExecuteDeleteAsync(cancellationToken);
        }

        await audit.RecordAsync(new AuditEvent(AuditActions.AuditRetention, null, null, AuditOutcome.Succeeded,
            $"deleted {deleted} rows older than {options.Value.RetentionDays} days"), cancellationToken);
        return deleted;
    }
}
