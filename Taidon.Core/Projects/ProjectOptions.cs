using System.ComponentModel.DataAnnotations;

namespace Taidon.Core.Projects;

/// <summary>Settings of <c>Taidon:Projects</c>, the defaults until quotas (the admin pages) set others.</summary>
public sealed class ProjectOptions
{
    public const string SectionName = "Taidon:Projects";

    [Range(1, 1000, ErrorMessage = "Taidon:Projects:MaxPerAccount must be between 1 and 1000.")]
    public int MaxPerAccount { get; set; } = 20;

    [Range(1024, 1L << 30, ErrorMessage = "Taidon:Projects:MaxScriptBytes must be between 1024 and 1073741824.")]
    public long MaxScriptBytes { get; set; } = 8L * 1024 * 1024;

    [Range(1024, 1L << 34, ErrorMessage = "Taidon:Projects:MaxProjectBytes must be between 1024 and 17179869184.")]
    public long MaxProjectBytes { get; set; } = 64L * 1024 * 1024;

    [Range(1, 100_000, ErrorMessage = "Taidon:Projects:MaxScripts must be between 1 and 100000.")]
    public int MaxScripts { get; set; } = 500;

    public ProjectLimits ToLimits() => new(MaxScriptBytes, MaxProjectBytes, MaxScripts);
}

public sealed class ProjectNotFoundException(Guid id) : Exception($"You have no project {id}.");
