namespace Taidon.Core.Instances;

/// <summary>The installation at a glance: instances by state and runs lately.</summary>
public sealed record InstanceActivity(int Running, int Stopped, int Pooled, double RunsPerMinute, int RunsLastHour, int FailedLastHour, double? HitRatioLastHour);

/// <summary>Where the admin overview reads its figures.</summary>
public interface IInstanceActivity
{
    Task<InstanceActivity> ActivityAsync(CancellationToken cancellationToken);
}
