using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Taidon.Core.Common;

/// <summary>
/// The meter and activity source named <c>Taidon</c>; every module records its figures here so that
/// the metrics endpoint, the admin overview and the alert rules read one set of numbers.
/// </summary>
public sealed class TaidonTelemetry : IDisposable
{
    public const string Name = "Taidon";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;

    public TaidonTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        AccountsCreated = _meter.CreateCounter<long>(
            "taidon.accounts.created", unit: "{account}", description: "Accounts created, by kind (anonymous or registered).");
        SignIns = _meter.CreateCounter<long>(
            "taidon.signins", unit: "{signin}", description: "Sign-in attempts, by outcome.");
        RateLimited = _meter.CreateCounter<long>(
            "taidon.requests.rate_limited", unit: "{request}", description: "Requests refused by the rate limiter, by policy.");
        Runs = _meter.CreateCounter<long>(
            "taidon.runs", unit: "{run}", description: "Runs, by plan (hot, continue, restore) and outcome (succeeded, failed).");
        CacheLookups = _meter.CreateCounter<long>(
            "taidon.cache.lookups", unit: "{lookup}", description: "Whether a run's tail came from the instance or a layer (hit) or was replayed from the base state (miss).");
        RunDuration = _meter.CreateHistogram<double>(
            "taidon.run.duration", unit: "s", description: "Duration of whole runs: restore, replay and head.");
        ReplayedStatements = _meter.CreateCounter<long>(
            "taidon.runs.replayed_statements", unit: "{statement}", description: "Statements replayed to reach the head.");
        ChainAnalyses = _meter.CreateCounter<long>(
            "taidon.chain.analyses", unit: "{analysis}", description: "Chains split and keyed for a run or a preview, by purpose (run, preview).");
        LayersTaken = _meter.CreateCounter<long>(
            "taidon.cache.layers_taken", unit: "{layer}", description: "Snapshot layers published by runs.");
        LayerBuildDuration = _meter.CreateHistogram<double>(
            "taidon.cache.layer_build.duration", unit: "s", description: "Time to publish a snapshot layer (stop, copy, checksum, start).");
        Evictions = _meter.CreateCounter<long>(
            "taidon.cache.evictions", unit: "{layer}", description: "Snapshot layers evicted by the garbage collector.");
        HeadDuration = _meter.CreateHistogram<double>(
            "taidon.run.head.duration", unit: "s", description: "Time to execute the head of a run (the statements the student asked for).");
        InstanceStartDuration = _meter.CreateHistogram<double>(
            "taidon.instance.start.duration", unit: "s", description: "Time until a new instance accepts connections, by source (pool or created).");
        SnapshotsFailed = _meter.CreateCounter<long>(
            "taidon.snapshots.failed", unit: "{snapshot}", description: "Snapshot layers of the Kubernetes runtime that failed, by kind (capture: a VolumeSnapshot not cut; restore: a volume from one that did not come up).");
        _meter.CreateObservableGauge(
            "taidon.instances.active", () => ActiveInstances?.Invoke() ?? 0, unit: "{instance}", description: "Instances with a running PostgreSQL.");
        ControlPlaneCommands = _meter.CreateCounter<long>(
            "taidon.controlplane.commands", unit: "{command}", description: "Commands sent to the control-plane database (what runs and pages cost the shared database).");
        RunQueueDuration = _meter.CreateHistogram<double>(
            "taidon.run.queue.duration", unit: "s", description: "Time runs waited for a turn of the installation (admission) before they started.");
        _meter.CreateObservableGauge(
            "taidon.runs.queued", () => RunLoad?.Invoke().Waiting ?? 0, unit: "{run}", description: "Runs waiting for a turn of the installation.");
        _meter.CreateObservableGauge(
            "taidon.runs.admitted", () => RunLoad?.Invoke().Running ?? 0, unit: "{run}", description: "Runs holding a turn of the installation (working).");
        _meter.CreateObservableGauge(
            "taidon.cache.size", () => CacheBytes?.Invoke() ?? 0, unit: "By", description: "Bytes the snapshot layers take.");
    }

    /// <summary>Where the active-instances gauge reads its figure (set by the runtime).</summary>
    public Func<long>? ActiveInstances { get; set; }

    /// <summary>Where the run queue's gauges read their figures (set by the admission policy's adapter).</summary>
    public Func<(int Running, int Waiting)>? RunLoad { get; set; }

    public Histogram<double> RunQueueDuration { get; }

    public Counter<long> ControlPlaneCommands { get; }

    /// <summary>Where the cache-size gauge reads its figure (set by the snapshot store).</summary>
    public Func<long>? CacheBytes { get; set; }

    public Histogram<double> LayerBuildDuration { get; }

    public Counter<long> SnapshotsFailed { get; }

    public Counter<long> Evictions { get; }

    public Histogram<double> HeadDuration { get; }

    public Histogram<double> InstanceStartDuration { get; }

    public Counter<long> Runs { get; }

    public Counter<long> CacheLookups { get; }

    public Histogram<double> RunDuration { get; }

    public Counter<long> ReplayedStatements { get; }

    public Counter<long> LayersTaken { get; }

    public Counter<long> ChainAnalyses { get; }

    public Counter<long> AccountsCreated { get; }

    public Counter<long> SignIns { get; }

    public Counter<long> RateLimited { get; }

    public void Dispose() => _meter.Dispose();
}
