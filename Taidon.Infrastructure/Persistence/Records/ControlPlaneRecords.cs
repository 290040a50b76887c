namespace Taidon.Infrastructure.Persistence.Records;

/// <summary>A statement seen to change nothing: run in state <see cref="BeforeKey"/>, it would have led to <see cref="AfterKey"/>.</summary>
public sealed class NoOpStatementRecord
{
    public required string BeforeKey { get; set; }

    public required string AfterKey { get; set; }

    public DateTimeOffset SeenAt { get; set; }
}

/// <summary>What a state-changing statement did, by the chain key it leads to (see <c>IStatementOutcomeStore</c>).</summary>
public sealed class StatementOutcomeRecord
{
    public required string AfterKey { get; set; }

    public string? CommandTag { get; set; }

    public long? RowsAffected { get; set; }

    /// <summary>How long it took, in microseconds (what replaying it costs).</summary>
    public long? DurationMicroseconds { get; set; }

    /// <summary>The notices it raised, as a JSON array of strings.</summary>
    public string Notices { get; set; } = "[]";

    public DateTimeOffset RecordedAt { get; set; }
}

/// <summary>A setting an admin changed in the pages (over the configuration's default).</summary>
public sealed class SettingRecord
{
    public required string Key { get; set; }

    public required string Value { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
