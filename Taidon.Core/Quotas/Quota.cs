using System.Globalization;
using System.Text.RegularExpressions;

namespace Taidon.Core.Quotas;

/// <summary>
/// What an account may use. CPU and memory are Kubernetes quantities ("500m", "1"; "512Mi", "1Gi"): the
/// pod's limits on Kubernetes, a control group's on the embedded runtime (where the OS gives one);
/// storage bounds an instance's volume on Kubernetes and its data directory (and a quarter of it its
/// temporary files) on the embedded runtime. The result limits bound what one run brings back.
/// </summary>
public sealed partial record Quota(
    int InstancesPerAccount,
    string Cpu,
    string Memory,
    int StorageMegabytes,
    int IdleMinutes,
    int LifetimeHours,
    int StatementTimeoutSeconds,
    int MaxResultRows,
    int RunsPerMinute,
    int ProjectsPerAccount,
    int MaxResultMegabytes = 8,
    int MaxValueKilobytes = 256,
    int MaxNoticesPerStatement = 100,
    int MaxNoticesPerRun = 1000)
{
    /// <summary>The bounds on what a run brings back under this plan.</summary>
    public Runs.ResultLimits ResultLimits => new(MaxResultRows, MaxResultMegabytes * 1024L * 1024, MaxValueKilobytes * 1024, MaxNoticesPerStatement, MaxNoticesPerRun);

    /// <summary>What is wrong with these limits, one sentence each, naming the limit and what to do; empty when all is well.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        Range(problems, "Instances per account", InstancesPerAccount, 0, 100);
        Range(problems, "Storage per instance (MB)", StorageMegabytes, 16, 1_048_576);
        Range(problems, "Idle stop (minutes)", IdleMinutes, 1, 24 * 60);
        Range(problems, "Lifetime (hours)", LifetimeHours, 1, 24 * 365);
        Range(problems, "Statement timeout (seconds)", StatementTimeoutSeconds, 1, 3600);
        Range(problems, "Result rows", MaxResultRows, 1, 1_000_000);
        Range(problems, "Result size per run (MB)", MaxResultMegabytes, 1, 256);
        Range(problems, "Value size (KB)", MaxValueKilobytes, 1, 64 * 1024);
        Range(problems, "Notices per statement", MaxNoticesPerStatement, 0, 100_000);
        Range(problems, "Notices per run", MaxNoticesPerRun, 0, 1_000_000);
        Range(problems, "Runs per minute", RunsPerMinute, 1, 10_000);
        Range(problems, "Projects per account", ProjectsPerAccount, 0, 1000);
        if (!CpuQuantity().IsMatch(Cpu ?? ""))
        {
            problems.Add($"CPU per instance '{Cpu}' is not a CPU quantity: write cores (\"1\", \"0.5\") or millicores (\"500m\").");
        }

        if (MemoryBytes(Memory) is not { } bytes)
        {
            problems.Add($"Memory per instance '{Memory}' needs a unit: write it like \"512Mi\", \"1Gi\" or \"256M\".");
        }
        else if (bytes < 64L * 1024 * 1024)
        {
            problems.Add($"Memory per instance '{Memory}' is below 64Mi, too little for PostgreSQL.");
        }

        return problems;
    }

    /// <summary>A Kubernetes CPU quantity in millicores ("500m" is 500, "1.5" is 1500), or null when it is not one.</summary>
    public static long? Millicores(string? quantity)
    {
        if (quantity is null || !CpuQuantity().IsMatch(quantity))
        {
            return null;
        }

        return quantity.EndsWith('m')
            ? long.Parse(quantity[..^1], CultureInfo.InvariantCulture)
            : (long)(decimal.Parse(quantity, CultureInfo.InvariantCulture) * 1000);
    }

    /// <summary>A Kubernetes memory quantity in bytes, or null when it is not one (a unit is required).</summary>
    public static long? MemoryBytes(string? quantity)
    {
        var match = MemoryQuantity().Match(quantity ?? "");
        if (!match.Success)
        {
            return null;
        }

        var number = decimal.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var factor = match.Groups[2].Value switch
        {
            "Ki" => 1024m,
            "Mi" => 1024m * 1024,
            "Gi" => 1024m * 1024 * 1024,
            "Ti" => 1024m * 1024 * 1024 * 1024,
            "K" or "k" => 1000m,
            "M" => 1000m * 1000,
            "G" => 1000m * 1000 * 1000,
            _ => 1000m * 1000 * 1000 * 1000,
        };
        return (long)(number * factor);
    }

    private static void Range(List<string> problems, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{name} must be between {min} and {max}; {value} is not.");
        }
    }

    [GeneratedRegex(@"^(\d+(\.\d+)?|\d+m)$")]
    private static partial Regex CpuQuantity();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|k|M|G|T)$")]
    private static partial Regex MemoryQuantity();
}

/// <summary>The plans every account falls under unless given a custom one.</summary>
public static class QuotaPlans
{
    public const string Anonymous = "anonymous";
    public const string Registered = "registered";

    public static bool IsBuiltIn(string name) => name is Anonymous or Registered;
}
