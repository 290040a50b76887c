using Taidon.Core.Git;
using Taidon.Core.Quotas;
using Taidon.Core.Instances;
using Taidon.Core.Projects;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Web.Features.Workspace;

/// <summary>
/// The service calls the workspace page makes, in one place: its parts take this port, so that they can be
/// tested without a database, and a move of the services touches this file alone.
/// </summary>
public interface IWorkspaceBackend
{
    Task<IReadOnlyList<Project>> ProjectsAsync(string owner);

    Task<Project> DefaultProjectAsync(string owner);

    /// <summary>The project a new account starts with, as a visitor sees it before having an account.</summary>
    (string Name, IReadOnlyList<ProjectScript> Scripts) StarterProject();

    Task<Project> ImportAsync(string owner, string url);

    Task<IReadOnlyList<ProjectScript>> ScriptsAsync(string owner, Guid projectId);

    Task<ProjectScript> SaveScriptAsync(string owner, Guid projectId, string path, string content);

    Task RenameScriptAsync(string owner, Guid projectId, string path, string newPath);

    Task DeleteScriptAsync(string owner, Guid projectId, string path);

    Task<int> IdleMinutesAsync(string owner);

    Task<IReadOnlyList<Instance>> InstancesAsync(string owner);

    Task<DatabaseSchema?> DescribeAsync(string owner, Guid instanceId);

    Task<IReadOnlyList<RunHistoryEntry>> HistoryAsync(string owner, int take);

    Task<(Instance Instance, AnalyzedChain Chain, RunResult Result)> RunAsync(
        string owner, Guid? instanceId, IReadOnlyList<SqlSource> sources, HeadSelection head, IProgress<RunProgress>? progress, CancellationToken cancellationToken);

    Task<BenchmarkReport> BenchmarkAsync(string owner, IReadOnlyList<SqlSource> sources, string script, IProgress<RunProgress>? progress, CancellationToken cancellationToken);

    Task<(AnalyzedChain Chain, RunPlan Plan)?> PreviewAsync(string owner, IReadOnlyList<SqlSource> sources, HeadSelection head);

    Task<Instance> RestartAsync(string owner, Guid instanceId);

    Task<Instance> ResetAsync(string owner, Guid instanceId);
}

public sealed class WorkspaceBackend(
    ProjectService projects, RunService runs, BenchmarkService benchmarks, IProjectGit git, QuotaService quotas) : IWorkspaceBackend
{
    public Task<IReadOnlyList<Project>> ProjectsAsync(string owner) => projects.ListAsync(owner, CancellationToken.None);

    public Task<Project> DefaultProjectAsync(string owner) => projects.DefaultAsync(owner, CancellationToken.None);

    public (string Name, IReadOnlyList<ProjectScript> Scripts) StarterProject() => projects.Starter();

    public Task<Project> ImportAsync(string owner, string url) => git.ImportAsync(owner, url, null, CancellationToken.None);

    public async Task<IReadOnlyList<ProjectScript>> ScriptsAsync(string owner, Guid projectId) =>
        (await projects.OpenAsync(owner, projectId, CancellationToken.None)).Scripts;

    public Task<ProjectScript> SaveScriptAsync(string owner, Guid projectId, string path, string content) =>
        projects.SaveScriptAsync(owner, projectId, path, content, CancellationToken.None);

    public Task RenameScriptAsync(string owner, Guid projectId, string path, string newPath) =>
        projects.RenameScriptAsync(owner, projectId, path, newPath, CancellationToken.None);

    public Task DeleteScriptAsync(string owner, Guid projectId, string path) =>
        projects.DeleteScriptAsync(owner, projectId, path, CancellationToken.None);

    public async Task<int> IdleMinutesAsync(string owner) =>
        (await quotas.ForAccountAsync(owner, CancellationToken.None)).Effective.IdleMinutes;

    public Task<IReadOnlyList<Instance>> InstancesAsync(string owner) => runs.ListAsync(owner, CancellationToken.None);

    public Task<DatabaseSchema?> DescribeAsync(string owner, Guid instanceId) => runs.DescribeAsync(owner, instanceId, CancellationToken.None);

    public Task<IReadOnlyList<RunHistoryEntry>> HistoryAsync(string owner, int take) => runs.HistoryAsync(owner, take, CancellationToken.None);

    public Task<(Instance Instance, AnalyzedChain Chain, RunResult Result)> RunAsync(
        string owner, Guid? instanceId, IReadOnlyList<SqlSource> sources, HeadSelection head, IProgress<RunProgress>? progress, CancellationToken cancellationToken) =>
        runs.RunAsync(owner, instanceId, sources, head, progress, cancellationToken);

    public Task<BenchmarkReport> BenchmarkAsync(string owner, IReadOnlyList<SqlSource> sources, string script, IProgress<RunProgress>? progress, CancellationToken cancellationToken) =>
        benchmarks.RunAsync(owner, sources, script, progress, cancellationToken);

    public Task<(AnalyzedChain Chain, RunPlan Plan)?> PreviewAsync(string owner, IReadOnlyList<SqlSource> sources, HeadSelection head) =>
        runs.PreviewAsync(owner, sources, head, CancellationToken.None);

    public Task<Instance> RestartAsync(string owner, Guid instanceId) => runs.RestartAsync(owner, instanceId, CancellationToken.None);

    public Task<Instance> ResetAsync(string owner, Guid instanceId) => runs.ResetAsync(owner, instanceId, CancellationToken.None);
}
