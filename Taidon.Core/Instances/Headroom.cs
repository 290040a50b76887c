using Taidon.Core.Runs;

namespace Taidon.Core.Instances;

/// <summary>The machine's own figures (the port; /proc on Linux): its cores, their load over the last minute, its memory.</summary>
public sealed record MachineLoad(int Cores, double LoadAverage, long MemoryAvailableBytes, long MemoryTotalBytes);

public interface IMachineLoad
{
    MachineLoad Read();
}

/// <summary>What limits the installation next, from the headroom's figures.</summary>
public enum HeadroomLimit
{
    /// <summary>Room everywhere: more students fit now.</summary>
    None,

    /// <summary>A disk is below its reserve: runs wait until space is freed.</summary>
    Disk,

    /// <summary>Memory is nearly used up: instances would be killed or refused.</summary>
    Memory,

    /// <summary>Runs wait for a turn, or the cores are busier than there are cores: runs get slower.</summary>
    Cpu,

    /// <summary>The instances are near the installation's cap: new students' first runs will be refused.</summary>
    Instances,
}

/// <summary>The machine's headroom as the admin overview shows it.</summary>
public sealed record Headroom(
    MachineLoad Machine,
    int RunsWorking,
    int RunsWaiting,
    int ConcurrentRuns,
    int InstancesRunning,
    int InstancesTotal,
    int MaxInstances,
    IReadOnlyList<(DiskSpace Space, long ReserveBytes)> Disks)
{
    /// <summary>Below this share of memory available, memory is what limits.</summary>
    public const double MemoryShortShare = 0.10;

    /// <summary>At this share of the installation's cap on instances, instances are what limits.</summary>
    public const double InstancesNearCapShare = 0.90;

    /// <summary>The first thing that limits, in the order that hurts students most.</summary>
    public HeadroomLimit Limit =>
        Disks.Any(d => d.Space.FreeBytes < d.ReserveBytes) ? HeadroomLimit.Disk
        : Machine.MemoryTotalBytes > 0 && Machine.MemoryAvailableBytes < MemoryShortShare * Machine.MemoryTotalBytes ? HeadroomLimit.Memory
        : MaxInstances > 0 && InstancesTotal >= InstancesNearCapShare * MaxInstances ? HeadroomLimit.Instances
        : RunsWaiting > 0 || Machine.LoadAverage > Machine.Cores ? HeadroomLimit.Cpu
        : HeadroomLimit.None;
}

/// <summary>Where the admin overview reads the headroom.</summary>
public interface IHeadroom
{
    Task<Headroom> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>Reads the headroom from the machine, the admission policy, the instances and the disks.</summary>
public sealed class HeadroomReport(IMachineLoad machine, IRunAdmission admission, AdmissionOptions admissionOptions, IInstanceStore instances, InstanceOptions options, DiskReserve disk) : IHeadroom
{
    public async Task<Headroom> ReadAsync(CancellationToken cancellationToken)
    {
        var states = await instances.CountByStateAsync(cancellationToken);
        var (working, waiting) = admission.Load;
        return new Headroom(
            machine.Read(), working, waiting, admissionOptions.EffectiveConcurrentRuns,
            states.GetValueOrDefault(InstanceState.Running), states.Values.Sum(), options.MaxTotal, disk.Measure());
    }
}
