using Taidon.Core.Snapshots;
using Taidon.Core.Instances;
using Hangfire;
using Microsoft.Extensions.Hosting;
using Taidon.Infrastructure.Identity;

namespace Taidon.Infrastructure.Jobs;

/// <summary>Registers the recurring Hangfire jobs of the modules (idempotent: run at every start).</summary>
public sealed class RecurringJobs(IRecurringJobManager jobs) : IHostedService
{
    public const string AnonymousAccountCleanup = "accounts.anonymous-cleanup";
    public const string InstanceSweep = "instances.idle-and-expiry";
    public const string LayerCollection = "snapshots.garbage-collection";
    public const string Reconciliation = "instances.reconciliation";
    public const string AuditRetention = "audit.retention";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        jobs.AddOrUpdate<AnonymousAccounts>(
            AnonymousAccountCleanup,
            accounts => accounts.RemoveStaleAsync(CancellationToken.None),
            Cron.Daily(3));
        jobs.AddOrUpdate<InstanceLifecycle>(
            InstanceSweep,
            lifecycle => lifecycle.SweepAsync(CancellationToken.None),
            Cron.Minutely());
        jobs.AddOrUpdate<LayerGarbageCollector>(
            LayerCollection,
            collector => collector.CollectAsync(CancellationToken.None),
            Cron.Hourly());
        jobs.AddOrUpdate<InstanceReconciliation>(
            Reconciliation,
            reconciliation => reconciliation.ReconcileAsync(CancellationToken.None),
            "*/5 * * * *");
        jobs.AddOrUpdate<Audit.AuditRetention>(
            AuditRetention,
            retention => retention.ApplyAsync(CancellationToken.None),
            Cron.Daily(4));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
