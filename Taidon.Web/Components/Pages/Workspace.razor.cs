using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Taidon.Core.Projects;
using Taidon.Core.Runs;
using Taidon.Web.Features.Accounts;
using Taidon.Web.Features.Gateway;
using Taidon.Web.Features.Git;
using Taidon.Web.Features.Projects;
using Taidon.Web.Features.Workspace;

namespace Taidon.Web.Components.Pages;

/// <summary>
/// The workspace: the page draws the open project and wires its parts (<see cref="ProjectOpening"/>,
/// <see cref="ScriptAutosave"/>, <see cref="ScriptRunner"/>, <see cref="InstanceActions"/>,
/// <see cref="EditorDecorations"/>) to the editor, the script tree and the panels.
/// </summary>
public partial class Workspace
{
    private ProjectMenu? _projectMenu;
    private GitPanel? _git;
    private SqlEditor? _editor;
    private string? _offerImport;
    private string? _loadProblem;
    private bool _help;

    private WorkspaceSession? _session;
    private ScriptAutosave? _autosave;
    private ScriptRunner? _runner;
    private InstanceActions? _instances;
    private EditorDecorations? _decorations;
    private Task<bool>? _becomingGuest;

    [Inject]
    private IWorkspaceBackend Backend { get; set; } = default!;

    [Inject]
    private IActiveRuns Active { get; set; } = default!;

    [Inject]
    private BusyControlPlane Busy { get; set; } = default!;

    [Inject]
    private GuestSignIn Guests { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    [Inject]
    private ILogger<Workspace> Logger { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [CascadingParameter(Name = "DarkTheme")]
    private bool DarkTheme { get; set; }

    /// <summary>The script open in the editor, kept in the address so that a reload reopens it.</summary>
    [SupplyParameterFromQuery(Name = "script")]
    public string? ScriptInAddress { get; set; }

    /// <summary>The project open, kept in the address (the account's first project when absent).</summary>
    [SupplyParameterFromQuery(Name = "project")]
    public Guid? ProjectInAddress { get; set; }

    /// <summary>A course link: a Git repository to open as the student's own copy.</summary>
    [SupplyParameterFromQuery(Name = "git")]
    public string? GitInAddress { get; set; }

    // The parts exist once a project is open; the markup uses them only then.
    private WorkspaceSession Session => _session!;

    private ScriptAutosave Autosave => _autosave!;

    private ScriptRunner Runner => _runner!;

    private InstanceActions Instances => _instances!;

    private EditorDecorations Decorations => _decorations!;

    /// <summary>The editor as drawn; the parts reach it through the session.</summary>
    private SqlEditor? Editor
    {
        get => _editor;
        set
        {
            _editor = value;
            _session?.Editor = value;
        }
    }

    private string SaveState => Autosave.Problem ?? (Autosave.Dirty ? T["Saving…"] : T["Saved"]);

    private double ProgressPercent => Session.Progress is { Total: > 0 } p ? 100.0 * p.Current / p.Total : 0;

    protected override async Task OnInitializedAsync()
    {
        var owner = (await AuthenticationState).User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "";
        if (owner.Length == 0 && GitInAddress is { Length: > 0 })
        {
            // A course link is copied into the visitor's own project, which needs an account: it is made
            // when the circuit starts (the prerender, which a crawler sees, makes none and fetches nothing).
            if (!RendererInfo.IsInteractive)
            {
                return;
            }

            try
            {
                owner = await Guests.SignInCircuitAsync();
            }
            catch (GuestRefusedException e)
            {
                _loadProblem = e.Message;
                return;
            }
        }

        var opened = await new ProjectOpening(Backend, T).OpenAsync(owner, new(ProjectInAddress, ScriptInAddress, GitInAddress), RendererInfo.IsInteractive);
        _loadProblem = opened.Problem;
        _offerImport = opened.OfferImport;
        if (opened.Session is not { } session)
        {
            return;
        }

        Task Render() => InvokeAsync(StateHasChanged);
        _decorations = new EditorDecorations(Backend, session, T, Logger);
        _autosave = new ScriptAutosave(Backend, session, Time, T, InvokeAsync, SavedAsync, Render);
        _runner = new ScriptRunner(Backend, Active, session, _autosave, _decorations, T, Busy, Logger, Render);
        _instances = new InstanceActions(Backend, session, _decorations, T);
        _session = session;
        if (RendererInfo.IsInteractive)
        {
            _ = ShowSchemaAsync();
        }
    }

    /// <summary>The schema panel and completion fill in once the instance is free (the workspace does not wait for a run in progress).</summary>
    private async Task ShowSchemaAsync()
    {
        try
        {
            await Instances.ShowSchemaAsync();
            StateHasChanged();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The schema is a help: the next run reads it again.
            Logger.LogWarning(e, "Could not read the schema of the instance");
        }
    }

    /// <summary>
    /// A visitor's first edit or run makes their guest account (and signs the browser in); the sample
    /// course they looked at becomes their project with what they typed in it. False, with the reason
    /// shown, when the account could not be made; the typed text stays in the page.
    /// </summary>
    private Task<bool> HaveAccountAsync()
    {
        if (!Session.IsVisitor)
        {
            return Task.FromResult(true);
        }

        return _becomingGuest ??= BecomeGuestAsync();

        async Task<bool> BecomeGuestAsync()
        {
            try
            {
                var account = await Guests.SignInCircuitAsync();
                var project = await Backend.DefaultProjectAsync(account);
                Session.Adopt(account, project.Id, project.Name, await Backend.ScriptsAsync(account, project.Id));
                Session.RunProblem = null;
                Session.History = await Backend.HistoryAsync(account, WorkspaceSession.HistoryShown);
                Session.IdleMinutes = await Backend.IdleMinutesAsync(account);
                await Autosave.SavePendingAsync();
                await Autosave.WatchUnsavedAsync();
                StateHasChanged();
                return true;
            }
            catch (GuestRefusedException e)
            {
                Session.RunProblem = e.Message;
                _becomingGuest = null;
                StateHasChanged();
                return false;
            }
        }
    }

    private async Task EditedAsync(string text)
    {
        await Autosave.EditedAsync(text);
        await HaveAccountAsync();
    }

    private async Task RunScriptAsync()
    {
        if (await HaveAccountAsync())
        {
            await Runner.RunScriptAsync();
        }
    }

    private async Task RunSelectionAsync(EditorSelection selection)
    {
        if (await HaveAccountAsync())
        {
            await Runner.RunSelectionAsync(selection);
        }
    }

    private async Task RunTestsAsync()
    {
        if (await HaveAccountAsync())
        {
            await Runner.RunTestsAsync();
        }
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (_offerImport is { } link && _projectMenu is not null && RendererInfo.IsInteractive)
        {
            _offerImport = null;
            _projectMenu.AskImport(link);
            StateHasChanged();
        }
    }

    /// <summary>A save went through: the marks follow the saved text and the Git panel its status.</summary>
    private async Task SavedAsync(bool settled)
    {
        if (settled)
        {
            await Decorations.RefreshMarksAsync();
        }

        if (_git is not null)
        {
            await _git.RefreshAsync();
        }
    }

    /// <summary>Another project: the page opens on it (what is typed is saved first).</summary>
    private async Task OpenProjectAsync(Guid id)
    {
        await Autosave.FlushAsync();
        Navigation.NavigateTo($"/?project={id}", forceLoad: true);
    }

    /// <summary>After a pull: the project's files as they are now, the open script kept when it still exists.</summary>
    private async Task ReloadScriptsAsync()
    {
        var scripts = await Backend.ScriptsAsync(Session.Owner, Session.ProjectId);
        var path = Session.Current?.Path;
        Session.Load(scripts);
        Session.Current = Session.Find(path ?? "") ?? Session.Scripts.FirstOrDefault();
        await _editor!.SetValueAsync(Session.Current?.Content ?? "");
        await Decorations.RefreshMarksAsync();
    }

    private async Task OpenAsync(OpenScript script)
    {
        if (script == Session.Current)
        {
            return;
        }

        await Autosave.FlushAsync();
        if (script == Session.Current)
        {
            return;
        }

        Session.Current = script;
        Session.Last = null;
        Session.Bench = null;
        Session.RunProblem = null;
        await _editor!.SetValueAsync(script.Content);
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(new Dictionary<string, object?> { ["project"] = Session.ProjectId.ToString(), ["script"] = script.Path, ["git"] = null }), replace: true);
        await Autosave.WatchUnsavedAsync();
        await Decorations.RefreshMarksAsync();
    }

    private async Task EditorReadyAsync()
    {
        await Decorations.CompletionsAsync();
        await Autosave.WatchUnsavedAsync();
        // The marks are a hint that asks the control plane: the editor takes keys before they come (a page
        // that loaded again on a busy replica in a rolling update waited 5 s for them).
        _ = Decorations.RefreshMarksAsync();
    }

    private async Task RunSelectionFromButtonAsync() => await RunSelectionAsync(await _editor!.GetSelectionAsync());

    private Task OpenFromHistoryAsync(RunHistoryEntry run) => OpenPathAsync(run.ScriptPath);

    /// <summary>Opens a script named elsewhere (the tree, a test result, the history), which may be gone by now.</summary>
    private async Task OpenPathAsync(string path)
    {
        if (Session.Find(path) is { } script)
        {
            await OpenAsync(script);
        }
        else
        {
            Session.TreeProblem = T["{0} no longer exists: it was renamed or deleted.", path];
        }
    }

    /// <summary>Replaces the script's text with the one it had in an earlier run (the text now is in the history if it was run).</summary>
    private async Task PutBackFromHistoryAsync(RunHistoryEntry run)
    {
        await OpenFromHistoryAsync(run);
        if (Session.Current?.Path != run.ScriptPath)
        {
            return;
        }

        await _editor!.SetValueAsync(run.Text);
        await Autosave.EditedAsync(run.Text);
        await Autosave.FlushAsync();
    }

    private async Task CreateScriptAsync(string name) => await ChangeTreeAsync(async () =>
    {
        var saved = await Backend.SaveScriptAsync(Session.Owner, Session.ProjectId, name, "");
        var created = new OpenScript(saved.Path, "");
        Session.Scripts.Add(created);
        await OpenAsync(created);
    });

    private async Task RenameScriptAsync((string From, string To) rename) => await ChangeTreeAsync(async () =>
    {
        if (Session.Find(rename.From) is not { } script)
        {
            return;
        }

        await Autosave.FlushAsync();
        await Backend.RenameScriptAsync(Session.Owner, Session.ProjectId, script.Path, rename.To);
        script.Path = ProjectPath.Normalize(rename.To);
    });

    /// <summary>A script added or renamed: the tree is put in chain order again and the address follows the open script.</summary>
    private async Task ChangeTreeAsync(Func<Task> change)
    {
        Session.TreeProblem = null;
        if (!await HaveAccountAsync())
        {
            return;
        }

        try
        {
            await change();
            Session.Reorder();
            if (Session.Current is not null)
            {
                Navigation.NavigateTo(Navigation.GetUriWithQueryParameter("script", Session.Current.Path), replace: true);
            }
        }
        catch (Exception e) when (e is ProjectRefusedException or ArgumentException)
        {
            Session.TreeProblem = e.Message.Split(" (Parameter")[0];
        }
    }

    private async Task DeleteScriptAsync(string path)
    {
        Session.TreeProblem = null;
        if (!await HaveAccountAsync() || Session.Find(path) is not { } script)
        {
            return;
        }

        if (script == Session.Current)
        {
            Autosave.Forget();
        }

        await Backend.DeleteScriptAsync(Session.Owner, Session.ProjectId, script.Path);
        Session.Scripts.Remove(script);
        if (script == Session.Current)
        {
            Session.Current = null;
            if (Session.Scripts.FirstOrDefault() is { } next)
            {
                await OpenAsync(next);
            }
            else
            {
                await _editor!.SetValueAsync("");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_session is null)
        {
            return;
        }

        _session.Running?.Stop();

        // The browser may be gone: what reached the server is saved.
        await Autosave.SavePendingAsync();
    }
}
