namespace Taidon.Core.Audit;

/// <summary>How an audited action ended.</summary>
public enum AuditOutcome
{
    Succeeded,
    Failed,

    /// <summary>Not allowed: a wrong password, a quota, a missing role.</summary>
    Refused,
}

/// <summary>
/// One action of a user's or of the system's: who (an account id, or null for the system), what (an
/// <see cref="AuditActions"/> name), on what, how it ended, a short detail, and from which address.
/// </summary>
public sealed record AuditEvent(string Action, string? ActorId, string? Target, AuditOutcome Outcome, string? Detail = null)
{
    /// <summary>The client's address; filled from the request or circuit in progress when not given.</summary>
    public string? ClientAddress { get; init; }
}

/// <summary>The append-only record of what happened. Recording never fails the action it records.</summary>
public interface IAuditLog
{
    Task RecordAsync(AuditEvent auditEvent, CancellationToken cancellationToken);
}

/// <summary>The names of audited actions, "subject.verb".</summary>
public static class AuditActions
{
    public const string SignIn = "account.sign-in";
    public const string Register = "account.register";
    public const string TokenCreate = "token.create";
    public const string TokenRevoke = "token.revoke";
    public const string AccountLock = "account.lock";
    public const string AccountUnlock = "account.unlock";
    public const string AccountDelete = "account.delete";
    public const string AdminGrant = "account.admin-grant";
    public const string AdminRevoke = "account.admin-revoke";
    public const string PlanAssign = "account.plan-assign";
    public const string InstanceCreate = "instance.create";
    public const string InstanceStop = "instance.stop";
    public const string InstanceDelete = "instance.delete";
    public const string InstanceExpire = "instance.expire";
    public const string InstanceExtend = "instance.extend";
    public const string InstanceReset = "instance.reset";
    public const string InstanceRestart = "instance.restart";
    public const string InstanceReclaim = "instance.reclaim";
    public const string LessonWarmup = "lesson.warmup";
    public const string Run = "run";
    public const string PlanChange = "quota.plan-change";
    public const string CacheEvict = "cache.evict";
    public const string CacheBudget = "cache.budget";
    public const string CacheCollect = "cache.collect";
    public const string AuditRetention = "audit.retention";
    public const string ProjectDelete = "project.delete";
    public const string GitClone = "git.clone";
    public const string GitConnect = "git.connect";
    public const string GitCommit = "git.commit";
    public const string GitPull = "git.pull";
    public const string GitPush = "git.push";

    public static IReadOnlyList<string> All { get; } =
    [
        SignIn, Register, TokenCreate, TokenRevoke, AccountLock, AccountUnlock, AccountDelete, AdminGrant, AdminRevoke, PlanAssign,
        InstanceCreate, InstanceStop, InstanceDelete, InstanceExpire, InstanceExtend, InstanceReset, InstanceRestart, InstanceReclaim, Run,
        PlanChange, CacheEvict, CacheBudget, CacheCollect, AuditRetention, ProjectDelete, GitClone, GitConnect, GitCommit, GitPull, GitPush,
    ];
}
