using Taidon.Core.Instances;
using Taidon.Core.Projects;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Web.Features.Workspace;

/// <summary>A script of the open project as the workspace holds it (its text is what was typed, saved or not).</summary>
public sealed class OpenScript(string path, string content)
{
    public string Path { get; set; } = path;

    public string Content { get; set; } = content;
}

/// <summary>The last run shown under the editor.</summary>
public sealed record LastRun(AnalyzedChain Chain, RunResult Result);

/// <summary>
/// What the workspace page shows of an open project: its scripts and the one open, the instance, the
/// last run and the problems to show. The page's parts change it; the page draws it.
/// </summary>
public sealed class WorkspaceSession(string owner, Guid projectId, string projectName)
{
    public const string TestFolder = "test/";
    public const string BenchFolder = "bench/";
    public const int HistoryShown = 30;

    /// <summary>The account; empty for a visitor who has not edited or run anything yet (and so has no account).</summary>
    public string Owner { get; private set; } = owner;

    /// <summary>The open project; <see cref="Guid.Empty"/> while a visitor looks at the sample course before having an account.</summary>
    public Guid ProjectId { get; private set; } = projectId;

    public bool IsVisitor => Owner.Length == 0;

    public string ProjectName { get; set; } = projectName;

    public List<OpenScript> Scripts { get; set; } = [];

    public OpenScript? Current { get; set; }

    /// <summary>The editor once it is drawn (null before, and in the prerender).</summary>
    public IScriptEditor? Editor { get; set; }

    public Instance? Instance { get; set; }

    public DatabaseSchema? Schema { get; set; }

    public LastRun? Last { get; set; }

    public BenchmarkReport? Bench { get; set; }

    public List<TestResult> Tests { get; set; } = [];

    public IReadOnlyList<RunHistoryEntry> History { get; set; } = [];

    public int IdleMinutes { get; set; } = 15;

    public ActiveRun? Running { get; set; }

    public RunProgress? Progress { get; set; }

    public string? RunProblem { get; set; }

    public string? TreeProblem { get; set; }

    public bool HasTests => Scripts.Any(s => s.Path.StartsWith(TestFolder, StringComparison.Ordinal));

    public OpenScript? Find(string path) => Scripts.FirstOrDefault(s => s.Path == path);

    /// <summary>
    /// The visitor has an account now, and <paramref name="projectId"/> is the project they looked at: its
    /// files come from the server, and what was typed in the open script is kept (and saved next).
    /// </summary>
    public void Adopt(string owner, Guid projectId, string projectName, IEnumerable<ProjectScript> scripts)
    {
        var typed = Current;
        Owner = owner;
        ProjectId = projectId;
        ProjectName = projectName;
        Load(scripts);
        Current = typed is null ? Scripts.FirstOrDefault() : Find(typed.Path) ?? Scripts.FirstOrDefault();
        if (typed is not null && Current is { } current && current.Path == typed.Path)
        {
            current.Content = typed.Content;
        }
    }

    /// <summary>Takes the project's files as they are on the server.</summary>
    public void Load(IEnumerable<ProjectScript> scripts) => Scripts = [.. scripts.Select(s => new OpenScript(s.Path, s.Content))];

    /// <summary>Puts the scripts in chain order again (after one is added or renamed).</summary>
    public void Reorder()
    {
        var order = ProjectChain.Order(Scripts.Select(s => s.Path)).ToList();
        Scripts = [.. Scripts.OrderBy(s => order.IndexOf(s.Path))];
    }

    /// <summary>The chain of a script (the open one by default): init and seed, then it (or up to it, for init and seed scripts).</summary>
    public List<SqlSource> Sources(string? path = null)
    {
        var order = ProjectChain.ScriptsForRun(Scripts.Select(s => s.Path), path ?? Current!.Path);
        return [.. order.Select(p => Scripts.First(s => s.Path == p)).Select(s => new SqlSource(s.Path, s.Content))];
    }

    /// <summary>The browser's copy of a script's unsaved edits is kept under the account, project and path.</summary>
    public string UnsavedKey(OpenScript script) => $"{Owner}/{ProjectId}/{script.Path}";
}
