using Taidon.Core.Instances;
using Taidon.Core.Runs;

namespace Taidon.Tests.Core.Instances;

public sealed class HeadroomTests
{
    private static readonly Headroom Roomy = new(
        new MachineLoad(Cores: 2, LoadAverage: 1.2, MemoryAvailableBytes: 12L << 30, MemoryTotalBytes: 24L << 30),
        RunsWorking: 2, RunsWaiting: 0, ConcurrentRuns: 4, InstancesRunning: 100, InstancesTotal: 150, MaxInstances: 1000,
        [(new DiskSpace("the projects and the instances", "/var/lib/taidon", 50L << 30, 100L << 30), 1L << 30)]);

    [Fact]
    public void WithRoomEverywhereNothingLimits() => Assert.Equal(HeadroomLimit.None, Roomy.Limit);

    [Fact]
    public void WaitingRunsOrMoreLoadThanCoresMakeTheCoresTheLimit()
    {
        Assert.Equal(HeadroomLimit.Cpu, (Roomy with { RunsWaiting = 1 }).Limit);
        Assert.Equal(HeadroomLimit.Cpu, (Roomy with { Machine = Roomy.Machine with { LoadAverage = 2.5 } }).Limit);
    }

    [Fact]
    public void WhatHurtsStudentsMostIsNamedFirst()
    {
        var everything = Roomy with
        {
            RunsWaiting = 10,
            InstancesTotal = 950,
            Machine = Roomy.Machine with { MemoryAvailableBytes = 1L << 30 },
            Disks = [(new DiskSpace("the projects and the instances", "/var/lib/taidon", 100L << 20, 100L << 30), 1L << 30)],
        };

        Assert.Equal(HeadroomLimit.Disk, everything.Limit);
        Assert.Equal(HeadroomLimit.Memory, (everything with { Disks = Roomy.Disks }).Limit);
        Assert.Equal(HeadroomLimit.Instances, (everything with { Disks = Roomy.Disks, Machine = Roomy.Machine }).Limit);
    }

    [Fact]
    public void TheDiskReserveIsTheSettingButAtMostATenthOfTheDisk()
    {
        var reserve = new DiskReserve(new Disks(new DiskSpace("x", "/x", 50L << 20, 400L << 20)), 1L << 30);

        Assert.Equal(40L << 20, reserve.ReserveOf(400L << 20));
        Assert.Null(reserve.Short());
        var full = new DiskReserve(new Disks(new DiskSpace("the projects", "/x", 30L << 20, 400L << 20)), 1L << 30);
        Assert.Equal("the projects", full.Short()!.Holds);
        var refused = Assert.Throws<Taidon.Core.Quotas.InstallationAtCapacityException>(full.EnsureRoom);
        Assert.Equal("disk", refused.Limit);
        Assert.Contains("30 MB free on the disk that holds the projects", refused.Message, StringComparison.Ordinal);
    }

    private sealed class Disks(params DiskSpace[] spaces) : IDiskSpace
    {
        public IReadOnlyList<DiskSpace> Measure() => spaces;
    }
}
