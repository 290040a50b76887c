using Taidon.Core.Instances;
using Taidon.Core.Projects;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.Git;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.Persistence.Records;
using Taidon.Infrastructure.Projects;
using Taidon.Infrastructure.Quotas;
using Taidon.Infrastructure.Runs;

namespace Taidon.Web.Features.Workspace;

/// <summary>
/// The service calls the workspace page makes, in one place: its parts take this port, so that they can be
/// tested without a database, and a move of the services touches this file alone.
/// </summary>
public interface IWorkspaceBackend
{
    EngineIdentity Engine { get; }

    Task<IReadOnlyList<ProjectRecord>> ProjectsAsync(string owner);

    Task<ProjectRecord> DefaultProjectAsync(string owner);

    Task<ProjectRecord> ImportAsync(string owner, string url);

    Task<IReadOnlyList<ProjectScript>> ScriptsAsync(string owner, Guid projectId);

    Task<ProjectScript> SaveScriptAsync(string owner, Guid projectId, string path, string content);

    Task RenameScriptAsync(string owner, Guid projectId, string path, string newPath);

    Task DeleteScriptAsync(string owner, Guid projectId, string path);

    Task<int> IdleMinutesAsync(string owner);

    Task<IReadOnlyList<InstanceRecord>> InstancesAsync(string owner);

    Task<DatabaseSchema?> DescribeAsync(string owner, Guid instanceId);

    Task<IReadOnlyList<RunHistoryRecord>> HistoryAsync(string owner, int take);

    Task<(InstanceRecord Instance, AnalyzedChain Chain, RunResult Result)> RunAsync(
        string owner, Guid? instanceId, IReadOnlyList<SqlSource> sources, HeadSelection head, IProgress<RunProgress>? progress, CancellationToken cancellationToken);

    Task<BenchmarkReport> BenchmarkAsync(string owner, IReadOnlyList<SqlSource> sources, string script, IProgress<RunProgress>? progress, CancellationToken cancellationToken);

    Task<(AnalyzedChain Chain, RunPlan Plan)?> PreviewAsync(string owner, IReadOnlyList<SqlSource> sources, HeadSelection head);

    Task<InstanceRecord> RestartAsync(string owner, Guid instanceId);

    Task<InstanceRecord> ResetAsync(string owner, Guid instanceId);
}

public sealed class WorkspaceBackend(
    ProjectService projects, RunService runs, BenchmarkService benchmarks, GitService git, QuotaService quotas, EngineIdentityProvider engine) : IWorkspaceBackend
{
    public EngineIdentity Engine => engine.Identity;

    public Task<IReadOnlyList<ProjectRecord>> ProjectsAsync(string owner) => projects.ListAsync(owner, CancellationToken.None);

    public Task<ProjectRecord> DefaultProjectAsync(string owner) => projects.DefaultAsync(owner, CancellationToken.None);

    public Task<ProjectRecord> ImportAsync(string owner, string url) => git.ImportAsync(owner, url, null, CancellationToken.None);

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

    public Task<IReadOnlyList<InstanceRecord>> InstancesAsync(string owner) => runs.ListAsync(owner, CancellationToken.None);

    public Task<DatabaseSchema?> DescribeAsync(string owner, Guid instanceId) => runs.DescribeAsync(owner, instanceId, CancellationToken.None);

    public Task<IReadOnlyList<RunHistoryRecord>> HistoryAsync(string owner, int take) => runs.HistoryAsync(owner, take, CancellationToken.None);

    public Task<(InstanceRecord Instance, AnalyzedChain Chain, RunResult Result)> RunAsync(
        string owner, Guid? instanceId, IReadOnlyList<SqlSource> sources, HeadSelection head, IProgress<RunProgress>? progress, CancellationToken cancellationToken) =>
        runs.RunAsync(owner, instanceId, sources, head, progress, cancellationToken);

    public Task<BenchmarkReport> BenchmarkAsync(string owner, IReadOnlyList<SqlSource> sources, string script, IProgress<RunProgress>? progress, CancellationToken cancellationToken) =>
        benchmarks.RunAsync(owner, sources, script, progress, cancellationToken);

    public Task<(AnalyzedChain Chain, RunPlan Plan)?> PreviewAsync(string owner, IReadOnlyList<SqlSource> sources, HeadSelection head) =>
        runs.PreviewAsync(owner, sources, head, CancellationToken.None);

    public Task<InstanceRecord> RestartAsync(string owner, Guid instanceId) => runs.RestartAsync(owner, instanceId, CancellationToken.None);

    public Task<InstanceRecord> ResetAsync(string owner, Guid instanceId) => runs.ResetAsync(owner, instanceId, CancellationToken.None);
}
