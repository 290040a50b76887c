using Taidon.Core.Audit;
using Taidon.Core.Snapshots;
using Taidon.Core.Projects;
using Taidon.Core.Runs;
using Taidon.Core.Instances;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Taidon.Infrastructure.Git;
using Taidon.Infrastructure.Identity;
using Taidon.Infrastructure.Persistence.Records;
using Taidon.Infrastructure.Quotas;

namespace Taidon.Infrastructure.Persistence;

/// <summary>The control-plane database: accounts, access tokens, Data Protection keys (Hangfire keeps its own schema).</summary>
public sealed class ControlPlaneDbContext(DbContextOptions<ControlPlaneDbContext> options)
    : IdentityDbContext<TaidonUser>(options), IDataProtectionKeyContext
{
    public DbSet<PersonalAccessToken> PersonalAccessTokens => Set<PersonalAccessToken>();

    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<Instance> Instances => Set<Instance>();

    public DbSet<LayerUse> Layers => Set<LayerUse>();

    public DbSet<NoOpStatementRecord> NoOpStatements => Set<NoOpStatementRecord>();

    public DbSet<StatementOutcomeRecord> StatementOutcomes => Set<StatementOutcomeRecord>();

    public DbSet<Project> Projects => Set<Project>();

    public DbSet<RunHistoryEntry> RunHistory => Set<RunHistoryEntry>();

    public DbSet<AuditEntry> AuditEvents => Set<AuditEntry>();

    public DbSet<PlanRecord> Plans => Set<PlanRecord>();

    public DbSet<SettingRecord> Settings => Set<SettingRecord>();

    public DbSet<GitCredentialRecord> GitCredentials => Set<GitCredentialRecord>();

    public DbSet<AccountPlanRecord> AccountPlans => Set<AccountPlanRecord>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<TaidonUser>(user =>
        {
            user.HasIndex(u => u.IsAnonymous);
            user.HasIndex(u => u.LastSeenAt);
        });

        builder.Entity<PersonalAccessToken>(token =>
        {
            token.ToTable("personal_access_tokens");
            token.HasKey(t => t.Id);
            token.Property(t => t.Name).HasMaxLength(100);
            token.Property(t => t.TokenHash).HasMaxLength(64);
            token.Property(t => t.DisplayPart).HasMaxLength(16);
            token.HasIndex(t => t.TokenHash).IsUnique();
            token.HasIndex(t => t.UserId);
            token.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<DataProtectionKey>().ToTable("data_protection_keys");

        builder.Entity<Instance>(instance =>
        {
            instance.ToTable("instances");
            instance.HasKey(i => i.Id);
            instance.Property(i => i.StateKey).HasMaxLength(64);
            instance.Property(i => i.State).HasConversion<string>().HasMaxLength(16);
            instance.HasIndex(i => i.OwnerId);
            instance.HasIndex(i => i.ExpiresAt);
            instance.HasOne<TaidonUser>().WithMany().HasForeignKey(i => i.OwnerId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<LayerUse>(layer =>
        {
            layer.ToTable("snapshot_layers");
            layer.HasKey(l => l.Key);
            layer.Property(l => l.Key).HasMaxLength(64);
            layer.Property(l => l.ParentKey).HasMaxLength(64);
            layer.HasIndex(l => l.LastUsedAt);
            layer.HasIndex(l => l.OwnerId);
        });

        builder.Entity<NoOpStatementRecord>(noOp =>
        {
            noOp.ToTable("no_op_statements");
            noOp.HasKey(n => new { n.BeforeKey, n.AfterKey });
            noOp.Property(n => n.BeforeKey).HasMaxLength(64);
            noOp.Property(n => n.AfterKey).HasMaxLength(64);
        });

        builder.Entity<StatementOutcomeRecord>(outcome =>
        {
            outcome.ToTable("statement_outcomes");
            outcome.HasKey(o => o.AfterKey);
            outcome.Property(o => o.AfterKey).HasMaxLength(64);
            outcome.Property(o => o.CommandTag).HasMaxLength(64);
            outcome.Property(o => o.Notices).HasColumnType("jsonb");
            outcome.HasIndex(o => o.RecordedAt);
        });

        builder.Entity<Project>(project =>
        {
            project.ToTable("projects");
            project.HasKey(p => p.Id);
            project.Property(p => p.Name).HasMaxLength(ProjectService.MaxNameLength);
            project.HasIndex(p => new { p.OwnerId, p.Name }).IsUnique();
            project.HasOne<TaidonUser>().WithMany().HasForeignKey(p => p.OwnerId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<RunHistoryEntry>(run =>
        {
            run.ToTable("run_history");
            run.HasKey(r => r.Id);
            run.Property(r => r.ScriptPath).HasMaxLength(512);
            run.Property(r => r.Outcome).HasMaxLength(16);
            run.Property(r => r.FromKey).HasMaxLength(128);
            run.HasIndex(r => new { r.OwnerId, r.StartedAt });
            run.HasOne<TaidonUser>().WithMany().HasForeignKey(r => r.OwnerId).OnDelete(DeleteBehavior.Cascade);
        });

        // No foreign keys: the log outlives the accounts it names.
        builder.Entity<AuditEntry>(audit =>
        {
            audit.ToTable("audit_events");
            audit.HasKey(e => e.Id);
            audit.Property(e => e.Id).UseIdentityAlwaysColumn();
            audit.Property(e => e.Action).HasMaxLength(64);
            audit.Property(e => e.Target).HasMaxLength(256);
            audit.Property(e => e.ClientAddress).HasMaxLength(64);
            audit.Property(e => e.Outcome).HasConversion<string>().HasMaxLength(16);
            audit.HasIndex(e => new { e.At, e.Id });
            audit.HasIndex(e => new { e.ActorId, e.At, e.Id });
            audit.HasIndex(e => new { e.Action, e.At, e.Id });
            audit.HasIndex(e => new { e.Target, e.At, e.Id });
        });

        builder.Entity<GitCredentialRecord>(credential =>
        {
            credential.ToTable("git_credentials");
            credential.HasKey(c => new { c.AccountId, c.Host });
            credential.Property(c => c.Host).HasMaxLength(255);
            credential.Property(c => c.Username).HasMaxLength(255);
            credential.HasOne<TaidonUser>().WithMany().HasForeignKey(c => c.AccountId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<SettingRecord>(setting =>
        {
            setting.ToTable("settings");
            setting.HasKey(s => s.Key);
            setting.Property(s => s.Key).HasMaxLength(128);
        });

        builder.Entity<PlanRecord>(plan =>
        {
            plan.ToTable("plans");
            plan.HasKey(p => p.Name);
            plan.Property(p => p.Name).HasMaxLength(64);
            plan.Property(p => p.Limits).HasColumnType("jsonb");
        });

        builder.Entity<AccountPlanRecord>(account =>
        {
            account.ToTable("account_plans");
            account.HasKey(a => a.AccountId);
            account.Property(a => a.PlanName).HasMaxLength(64);
            account.Property(a => a.Override).HasColumnType("jsonb");
            account.HasIndex(a => a.PlanName);
            account.HasOne<TaidonUser>().WithMany().HasForeignKey(a => a.AccountId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
