namespace Taidon.Core.Audit;

/// <summary>A row of the audit log. Rows are only ever inserted (a trigger refuses updates); retention deletes whole old batches.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>The account that acted; null for the system (jobs).</summary>
    public string? ActorId { get; set; }

    public required string Action { get; set; }

    public string? Target { get; set; }

    public AuditOutcome Outcome { get; set; }

    public string? Detail { get; set; }

    public string? ClientAddress { get; set; }
}

/// <summary>The client address of the request or circuit in progress, for the audit rows it causes.</summary>
public static class AuditClient
{
    private static readonly AsyncLocal<string?> Current = new();

    public static string? Address
    {
        get => Current.Value;
        set => Current.Value = value;
    }
}

/// <summary>What to look for in the audit log: every part optional.</summary>
public sealed record AuditFilter(string? ActorId = null, string? Action = null, string? Target = null, DateTimeOffset? From = null, DateTimeOffset? To = null);

/// <summary>Where a page of the audit log ended: the next page starts after this row (newest first).</summary>
public sealed record AuditCursor(DateTimeOffset At, long Id);

/// <summary>The audit log as admins read it (the port; the control-plane database implements it).</summary>
public interface IAuditTrail
{
    /// <summary>A page of rows that match the filter, newest first, after <paramref name="after"/>.</summary>
    Task<IReadOnlyList<AuditEntry>> SearchAsync(AuditFilter filter, AuditCursor? after, int take, CancellationToken cancellationToken);

    /// <summary>Every row that matches the filter, newest first, read in pages (for a download).</summary>
    IAsyncEnumerable<AuditEntry> StreamAsync(AuditFilter filter, CancellationToken cancellationToken);
}
