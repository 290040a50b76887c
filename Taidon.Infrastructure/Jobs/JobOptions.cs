namespace Taidon.Infrastructure.Jobs;

/// <summary>Settings of <c>Taidon:Jobs</c>.</summary>
public sealed class JobOptions
{
    public const string SectionName = "Taidon:Jobs";

    /// <summary>Run the Hangfire server in this process (turn off on replicas that should only serve pages).</summary>
    public bool RunServer { get; set; } = true;

    /// <summary>Hangfire workers in this process.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 64, ErrorMessage = "Taidon:Jobs:WorkerCount must be between 1 and 64.")]
    public int WorkerCount { get; set; } = 2;
}
