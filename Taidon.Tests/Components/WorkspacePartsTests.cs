using Taidon.Infrastructure.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.JSInterop;
using Taidon.Core.Instances;
using Taidon.Core.Projects;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Web.Features.Localization;
using Taidon.Web.Features.Workspace;

namespace Taidon.Tests.Components;

/// <summary>The workspace page's parts without a browser or a database: autosave, opening, runs, tests, instance actions.</summary>
public sealed class WorkspacePartsTests : IDisposable
{
    private static readonly EngineIdentity Engine = EngineIdentity.PostgreSql(17);

    private readonly ServiceProvider _services = new ServiceCollection().AddLogging().AddLocalization().BuildServiceProvider();
    private readonly FakeBackend _backend = new();
    private readonly FakeEditor _editor = new();
    private readonly ManualClock _clock = new();
    private readonly WorkspaceSession _session = new("owner-1", Guid.NewGuid(), "Course");

    public WorkspacePartsTests()
    {
        _session.Load([Script("init/01_schema.sql", "CREATE TABLE t (id int);"), Script("test/a.sql", "SELECT 1;"), Script("test/b.sql", "SELECT 2;")]);
        _session.Current = _session.Find("test/a.sql");
        _session.Editor = _editor;
    }

    private IStringLocalizer<Strings> T => _services.GetRequiredService<IStringLocalizer<Strings>>();

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task EditsAreSavedOnceTheTypingStopsWithTheLastText()
    {
        var autosave = Autosave();

        await autosave.EditedAsync("SELECT");
        await autosave.EditedAsync("SELECT 1");
        await autosave.EditedAsync("SELECT 10;");
        await Until(() => _clock.Waiting == 1);
        _clock.Advance(ScriptAutosave.Delay - TimeSpan.FromMilliseconds(1));

        Assert.Empty(_backend.Saved);
        Assert.True(autosave.Dirty);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await Until(() => !autosave.Dirty);

        Assert.Equal([("test/a.sql", "SELECT 10;")], _backend.Saved);
        Assert.Equal([($"owner-1/{_session.ProjectId}/test/a.sql", "SELECT 10;")], _editor.SavedCopies);
    }

    [Fact]
    public async Task AFlushSavesWhatTheEditorShowsAtOnceAndNoLaterSaveFollows()
    {
        var autosave = Autosave();
        _editor.Text = "SELECT 'typed';";

        await autosave.FlushAsync();
        _clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal([("test/a.sql", "SELECT 'typed';")], _backend.Saved);
        Assert.False(autosave.Dirty);
        Assert.Equal("SELECT 'typed';", _session.Current!.Content);
    }

    [Fact]
    public async Task EditsALostConnectionKeptArePutBackAndSaved()
    {
        var autosave = Autosave();
        _editor.Kept = "SELECT 'kept in the browser';";

        await autosave.WatchUnsavedAsync();

        Assert.True(autosave.RestoredUnsaved);
        Assert.Equal("SELECT 'kept in the browser';", _editor.Text);
        Assert.Equal([("test/a.sql", "SELECT 'kept in the browser';")], _backend.Saved);
    }

    [Fact]
    public async Task WithNothingKeptInTheBrowserNothingIsPutBack()
    {
        var autosave = Autosave();

        await autosave.WatchUnsavedAsync();

        Assert.False(autosave.RestoredUnsaved);
        Assert.Empty(_backend.Saved);
    }

    [Fact]
    public async Task ARefusedSaveSaysWhyAndKeepsTheEditUnsaved()
    {
        var autosave = Autosave();
        _backend.RefuseSaves = "the project is over its size";

        await autosave.EditedAsync("SELECT 3;");
        await autosave.SavePendingAsync();

        Assert.Equal("Not saved: the project is over its size", autosave.Problem);
        Assert.True(autosave.Dirty);
    }

    [Fact]
    public async Task EachTestScriptPassesOrFailsWithItsFirstErrorOnItsOwnChain()
    {
        _backend.Errors["test/b.sql"] = new RunError("P0004", "assertion failed", null, null, "test/b.sql", new SourcePosition(3, 1));
        using var run = new ActiveRun(Guid.NewGuid(), "owner-1", DateTimeOffset.UnixEpoch, CancellationToken.None, _ => { });
        var drawn = 0;

        await new TestRunner(_backend, _session).RunAsync(run, () => { drawn++; return Task.CompletedTask; });

        Assert.Equal(["test/a.sql", "test/b.sql"], _session.Tests.Select(t => t.Path));
        Assert.Equal([true, false], _session.Tests.Select(t => t.Passed));
        Assert.Equal([null, "test/b.sql:3: assertion failed"], _session.Tests.Select(t => t.Message));
        Assert.Equal([["init/01_schema.sql", "test/a.sql"], ["init/01_schema.sql", "test/b.sql"]], _backend.Runs.Select(r => r.Select(s => s.Path)));
        Assert.Equal(2, drawn);
        Assert.Equal(new RunProgress(2, 2, RunPhase.Testing, "test/b.sql"), run.Progress);
    }

    [Fact]
    public async Task AStoppedTestRunLeavesTheTestsAfterItWaiting()
    {
        using var run = new ActiveRun(Guid.NewGuid(), "owner-1", DateTimeOffset.UnixEpoch, CancellationToken.None, _ => { });
        _backend.OnRun = run.Stop;

        await new TestRunner(_backend, _session).RunAsync(run, () => Task.CompletedTask);

        Assert.Equal([true, null], _session.Tests.Select(t => t.Passed));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARunThatSucceededIsNotReportedAsFailedWhenTheEditorCannotBeDecorated(bool disconnected)
    {
        _editor.Failure = disconnected ? new JSDisconnectedException("The circuit is gone.") : new JSException("deltaDecorations failed");

        await Runner().RunScriptAsync();

        Assert.Null(_session.RunProblem);
        Assert.NotNull(_session.Last);
        Assert.True(_session.Last.Result.Succeeded);
        Assert.Equal(_backend.Instance, _session.Instance);
        Assert.Equal(_backend.Schema, _session.Schema);
        Assert.Single(_session.History);
        Assert.Null(_session.Running);
    }

    [Fact]
    public async Task AFailedRunMarksItsErrorInTheOpenScriptWithDetailAndHint()
    {
        _backend.Errors["test/a.sql"] = new RunError("42P01", "relation \"x\" does not exist", null, "Create it in init/.", "test/a.sql", new SourcePosition(2, 15));

        await Runner().RunScriptAsync();

        Assert.Null(_session.RunProblem);
        Assert.Equal(new EditorError(2, 15, "42P01: relation \"x\" does not exist\nHint: Create it in init/."), _editor.Error);
    }

    [Fact]
    public async Task AFailureOnTheServerIsStillReportedAsAFailedRun()
    {
        _backend.RunFailure = new InvalidOperationException("the disk is full");

        await Runner().RunScriptAsync();

        Assert.Equal("The run failed on the server: the disk is full", _session.RunProblem);
        Assert.Null(_session.Running);
    }

    [Fact]
    public async Task ARunTakesTheTextInTheEditorEvenBeforeItsChangeEventArrives()
    {
        _editor.Text = "SELECT 42;";

        await Runner().RunScriptAsync();

        Assert.Equal(("test/a.sql", "SELECT 42;"), _backend.Saved.Single());
        Assert.Equal("SELECT 42;", _backend.Runs.Single().Last().Text);
    }

    [Fact]
    public async Task ACourseLinkWaitsForTheCircuitThenBecomesANewStudentsFirstProject()
    {
        _backend.Projects.Clear();
        var opening = new ProjectOpening(_backend, T);
        var address = new WorkspaceAddress(null, null, "https://git.example.org/course.git");

        var prerendered = await opening.OpenAsync("owner-1", address, interactive: false);
        Assert.Null(prerendered.Session);
        Assert.Null(prerendered.Problem);
        Assert.Empty(_backend.Imported);

        var opened = await opening.OpenAsync("owner-1", address, interactive: true);
        Assert.Equal(["https://git.example.org/course.git"], _backend.Imported);
        Assert.Equal("Imported course", opened.Session!.ProjectName);
        Assert.Equal("test/a.sql", opened.Session.Current!.Path);
    }

    [Fact]
    public async Task AStudentWithProjectsIsOfferedTheCourseLinkAndTheScriptInTheAddressOpens()
    {
        var opened = await new ProjectOpening(_backend, T).OpenAsync("owner-1", new WorkspaceAddress(null, "test/b.sql", "https://git.example.org/course.git"), interactive: true);

        Assert.Equal("https://git.example.org/course.git", opened.OfferImport);
        Assert.Empty(_backend.Imported);
        Assert.Equal("Course", opened.Session!.ProjectName);
        Assert.Equal("test/b.sql", opened.Session.Current!.Path);
        Assert.Equal(_backend.Instance, opened.Session.Instance);
        Assert.Equal(20, opened.Session.IdleMinutes);
    }

    [Fact]
    public async Task TheWorkspaceOpensWhileARunHoldsTheInstanceAndItsSchemaFollows()
    {
        _backend.InstanceHeld = new TaskCompletionSource();

        var opened = await new ProjectOpening(_backend, T).OpenAsync("owner-1", new WorkspaceAddress(null, null, null), interactive: true);
        var session = opened.Session!;
        Assert.Equal(_backend.Instance, session.Instance);
        Assert.Null(session.Schema);

        var shown = new InstanceActions(_backend, session, new EditorDecorations(_backend, session, T, NullLogger.Instance), T).ShowSchemaAsync();
        Assert.False(shown.IsCompleted);
        _backend.InstanceHeld.SetResult();
        await shown;
        Assert.Equal(_backend.Schema, session.Schema);
    }

    [Fact]
    public async Task AVisitorWithoutAnAccountSeesTheStarterProjectAndNothingIsAskedOfTheServer()
    {
        var opened = await new ProjectOpening(_backend, T).OpenAsync("", new WorkspaceAddress(null, "test/b.sql", null), interactive: true);

        var visit = Assert.IsType<WorkspaceSession>(opened.Session);
        Assert.True(visit.IsVisitor);
        Assert.Equal("Starter", visit.ProjectName);
        Assert.Equal(["init/01_schema.sql", "test/b.sql"], visit.Scripts.Select(s => s.Path));
        Assert.Equal("test/b.sql", visit.Current!.Path);
        Assert.Null(visit.Instance);
        Assert.Empty(_backend.Asked);
    }

    [Fact]
    public async Task AVisitorsEditWaitsUnsavedUntilTheAccountIsThereAndIsThenSavedInIt()
    {
        var visit = new WorkspaceSession("", Guid.Empty, "Starter") { Editor = _editor };
        visit.Load([Script("init/01_schema.sql", "CREATE TABLE t (id int);"), Script("test/a.sql", "SELECT 1;")]);
        visit.Current = visit.Find("test/a.sql");
        var autosave = new ScriptAutosave(_backend, visit, _clock, T, f => f(), _ => Task.CompletedTask, () => Task.CompletedTask);

        await autosave.EditedAsync("SELECT 'typed before the account';");
        await autosave.SavePendingAsync();
        Assert.Empty(_backend.Saved);
        Assert.True(autosave.Dirty);

        // The account's project comes from the server; the open script keeps what was typed.
        var project = Guid.NewGuid();
        visit.Adopt("owner-1", project, "Course", await _backend.ScriptsAsync("owner-1", project));
        await autosave.SavePendingAsync();

        Assert.False(visit.IsVisitor);
        Assert.Equal(project, visit.ProjectId);
        Assert.Equal(["init/01_schema.sql", "test/a.sql", "test/b.sql"], visit.Scripts.Select(s => s.Path));
        Assert.Equal([("test/a.sql", "SELECT 'typed before the account';")], _backend.Saved);
        Assert.Equal("SELECT 'typed before the account';", visit.Current!.Content);
    }

    [Fact]
    public async Task ARestartShowsTheNewInstanceAndClearsTheLastRun()
    {
        _session.Instance = _backend.Instance;
        _session.Last = new LastRun(ChainAnalysis.Analyze(_session.Sources(), Engine), RunOf(2));
        var restarted = new Instance { Id = Guid.NewGuid(), OwnerId = "owner-1", State = InstanceState.Running };
        _backend.Restarted = restarted;

        await new InstanceActions(_backend, _session, Decorations(), T).RestartAsync();

        Assert.Same(restarted, _session.Instance);
        Assert.Null(_session.Last);
        Assert.Equal(_backend.Schema, _session.Schema);
    }

    [Fact]
    public async Task AResetBeforeTheCursorWhereTheScriptHasNoStatementSaysWhereToPutIt()
    {
        _session.Instance = _backend.Instance;
        _session.Current!.Content = "-- to do";

        await new InstanceActions(_backend, _session, Decorations(), T).ResetBeforeCursorAsync();

        Assert.Equal("Put the cursor on a statement of the script to reset to the state before it.", _session.RunProblem);
        Assert.Empty(_backend.Runs);
    }

    private ScriptAutosave Autosave() =>
        new(_backend, _session, _clock, T, f => f(), _ => Task.CompletedTask, () => Task.CompletedTask);

    private EditorDecorations Decorations() => new(_backend, _session, T, NullLogger.Instance);

    private ScriptRunner Runner() =>
        new(_backend, new ProcessActiveRuns(TimeProvider.System), _session, Autosave(), Decorations(), T, new Taidon.Web.Features.Gateway.BusyControlPlane(Taidon.Infrastructure.Persistence.ControlPlaneBusy.Is), NullLogger.Instance, () => Task.CompletedTask);

    private static ProjectScript Script(string path, string content) => new(path, content, DateTimeOffset.UnixEpoch);

    /// <summary>A run of <paramref name="statements"/> statements, the last of which raised <paramref name="error"/> when there is one.</summary>
    private static RunResult RunOf(int statements, RunError? error = null) => new(
        new RunPlan(RunStart.Hot, 0, Engine.Root, [], [], 0, statements, TimeSpan.Zero),
        [.. Enumerable.Range(0, statements).Select(i => new StatementOutcome(
            i, i == statements - 1 && error is not null ? StatementStatus.Error : StatementStatus.Executed, "SELECT", 1, [], [], TimeSpan.Zero, i == statements - 1 ? error : null, false))],
        null,
        [],
        [],
        TimeSpan.Zero);

    private static async Task Until(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 10)
        {
            Assert.True(waited < 5000, "The condition did not come true within 5 s.");
            await Task.Delay(10);
        }
    }

    private sealed class FakeEditor : IScriptEditor
    {
        public string? Text { get; set; }

        public string? Kept { get; set; }

        public Exception? Failure { get; set; }

        public EditorError? Error { get; private set; }

        public EditorSelection Selection { get; set; } = new(1, 1, 1, 1);

        public List<(string Key, string Text)> SavedCopies { get; } = [];

        public Task SetValueAsync(string text)
        {
            Text = text;
            return Task.CompletedTask;
        }

        public Task<string?> TextAsync() => Task.FromResult(Text);

        public Task<EditorSelection> GetSelectionAsync() => Task.FromResult(Selection);

        public Task SetErrorAsync(EditorError? error)
        {
            Error = error;
            return Failure is null ? Task.CompletedTask : Task.FromException(Failure);
        }

        public Task SetStatementMarksAsync(IReadOnlyList<StatementMark> marks) => Failure is null ? Task.CompletedTask : Task.FromException(Failure);

        public Task<string?> WatchUnsavedAsync(string key, string serverText) => Task.FromResult(Kept);

        public Task SavedAsync(string key, string text)
        {
            SavedCopies.Add((key, text));
            return Task.CompletedTask;
        }

        public Task SetCompletionsAsync(IReadOnlyList<CompletionWord> words) => Failure is null ? Task.CompletedTask : Task.FromException(Failure);
    }

    private sealed class FakeBackend : IWorkspaceBackend
    {
        private readonly Project _course = new() { Id = Guid.NewGuid(), OwnerId = "owner-1", Name = "Course" };

        public FakeBackend() => Projects.Add(_course);

        public List<Project> Projects { get; } = [];

        public List<string> Imported { get; } = [];

        public List<(string Path, string Content)> Saved { get; } = [];

        public List<IReadOnlyList<SqlSource>> Runs { get; } = [];

        public Dictionary<string, RunError> Errors { get; } = [];

        public string? RefuseSaves { get; set; }

        public Exception? RunFailure { get; set; }

        public Action? OnRun { get; set; }

        public Instance Instance { get; } = new() { Id = Guid.NewGuid(), OwnerId = "owner-1", State = InstanceState.Running };

        public Instance? Restarted { get; set; }

        public DatabaseSchema Schema { get; } = new([new SchemaRelation("public", "t", "table", [new SchemaColumn("id", "integer", false)], [])], []);

        public Task<IReadOnlyList<Project>> ProjectsAsync(string owner)
        {
            Asked.Add(nameof(ProjectsAsync));
            return Task.FromResult<IReadOnlyList<Project>>([.. Projects]);
        }

        public Task<Project> DefaultProjectAsync(string owner) => Task.FromResult(_course);

        /// <summary>The account-bound calls made (a visitor's page must make none).</summary>
        public List<string> Asked { get; } = [];

        public (string Name, IReadOnlyList<ProjectScript> Scripts) StarterProject() =>
            ("Starter", [Script("init/01_schema.sql", "CREATE TABLE t (id int);"), Script("test/b.sql", "SELECT 2;")]);

        public Task<Project> ImportAsync(string owner, string url)
        {
            Imported.Add(url);
            return Task.FromResult(new Project { Id = Guid.NewGuid(), OwnerId = owner, Name = "Imported course" });
        }

        public Task<IReadOnlyList<ProjectScript>> ScriptsAsync(string owner, Guid projectId) =>
            Task.FromResult<IReadOnlyList<ProjectScript>>([Script("init/01_schema.sql", "CREATE TABLE t (id int);"), Script("test/a.sql", "SELECT 1;"), Script("test/b.sql", "SELECT 2;")]);

        public async Task<ProjectScript> SaveScriptAsync(string owner, Guid projectId, string path, string content)
        {
            await Task.Yield();
            if (RefuseSaves is { } why)
            {
                throw new ProjectRefusedException(why);
            }

            Saved.Add((path, content));
            return Script(path, content);
        }

        public Task RenameScriptAsync(string owner, Guid projectId, string path, string newPath) => Task.CompletedTask;

        public Task DeleteScriptAsync(string owner, Guid projectId, string path) => Task.CompletedTask;

        public Task<int> IdleMinutesAsync(string owner) => Task.FromResult(20);

        public Task<IReadOnlyList<Instance>> InstancesAsync(string owner)
        {
            Asked.Add(nameof(InstancesAsync));
            return Task.FromResult<IReadOnlyList<Instance>>([Instance]);
        }

        /// <summary>Set: the instance is held (a run in progress) until it completes.</summary>
        public TaskCompletionSource? InstanceHeld { get; set; }

        public async Task<DatabaseSchema?> DescribeAsync(string owner, Guid instanceId)
        {
            if (InstanceHeld is { } held)
            {
                await held.Task;
            }

            return Schema;
        }

        public Task<IReadOnlyList<RunHistoryEntry>> HistoryAsync(string owner, int take) =>
            Task.FromResult<IReadOnlyList<RunHistoryEntry>>([.. Runs.Select(r => new RunHistoryEntry { OwnerId = owner, ScriptPath = r[^1].Path, Text = r[^1].Text, Outcome = "succeeded" })]);

        public async Task<(Instance Instance, AnalyzedChain Chain, RunResult Result)> RunAsync(
            string owner, Guid? instanceId, IReadOnlyList<SqlSource> sources, HeadSelection head, IProgress<RunProgress>? progress, CancellationToken cancellationToken)
        {
            await Task.Yield();
            if (RunFailure is { } failure)
            {
                throw failure;
            }

            // As the run service does: a selection that touches no statement runs nothing.
            var chain = ChainAnalysis.Analyze(sources, Engine);
            if (head.Selected is { } selected && SelectionHead.Find(chain.Statements, selected.File, selected.From, selected.To) is null)
            {
                throw new NoStatementSelectedException("no statement there");
            }

            Runs.Add(sources);
            OnRun?.Invoke();
            return (Instance, chain, RunOf(chain.Statements.Count, Errors.GetValueOrDefault(sources[^1].Path)));
        }

        public Task<BenchmarkReport> BenchmarkAsync(string owner, IReadOnlyList<SqlSource> sources, string script, IProgress<RunProgress>? progress, CancellationToken cancellationToken) =>
            throw new NotSupportedException("No bench/ script here.");

        public Task<(AnalyzedChain Chain, RunPlan Plan)?> PreviewAsync(string owner, IReadOnlyList<SqlSource> sources, HeadSelection head)
        {
            var chain = ChainAnalysis.Analyze(sources, Engine);
            return Task.FromResult<(AnalyzedChain, RunPlan)?>((chain, RunOf(chain.Statements.Count).Plan));
        }

        public Task<Instance> RestartAsync(string owner, Guid instanceId) => Task.FromResult(Restarted ?? Instance);

        public Task<Instance> ResetAsync(string owner, Guid instanceId) => Task.FromResult(Instance);
    }

    /// <summary>A clock whose timers fire only when the test moves it on.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private readonly List<ManualTimer> _timers = [];
        private TimeSpan _now;

        public int Waiting
        {
            get
            {
                lock (_timers)
                {
                    return _timers.Count;
                }
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new ManualTimer(this, callback, state);
            timer.Change(dueTime, period);
            return timer;
        }

        public void Advance(TimeSpan by)
        {
            List<ManualTimer> due;
            lock (_timers)
            {
                _now += by;
                due = [.. _timers.Where(t => t.Due <= _now)];
                _timers.RemoveAll(due.Contains);
            }

            foreach (var timer in due)
            {
                timer.Fire();
            }
        }

        private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
        {
            public TimeSpan Due { get; private set; }

            public void Fire() => callback(state);

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                lock (clock._timers)
                {
                    clock._timers.Remove(this);
                    if (dueTime != Timeout.InfiniteTimeSpan)
                    {
                        Due = clock._now + dueTime;
                        clock._timers.Add(this);
                    }
                }

                return true;
            }

            public void Dispose()
            {
                lock (clock._timers)
                {
                    clock._timers.Remove(this);
                }
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
