namespace Taidon.Core.Projects;

/// <summary>A project of an account: its scripts live in the project store's folder for this id.</summary>
public sealed class Project
{
    public Guid Id { get; set; }

    public required string OwnerId { get; set; }

    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
