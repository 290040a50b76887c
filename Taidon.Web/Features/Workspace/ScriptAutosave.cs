using Microsoft.Extensions.Localization;
using Taidon.Core.Projects;
using Taidon.Web.Features.Localization;

namespace Taidon.Web.Features.Workspace;

/// <summary>
/// Saves what is typed in the open script a moment after the typing stops, at once before a run, a
/// Git action or leaving the script, and puts back edits a lost connection kept from the server (the
/// browser holds a copy of them until the server has saved them).
/// <c>dispatch</c> runs a save on the page's renderer (a debounced save is due on a timer's thread);
/// <c>saved</c> follows a save, told whether the open script has no edits left unsaved (the marks may be
/// drawn again); <c>changed</c> draws the page.
/// </summary>
public sealed class ScriptAutosave(
    IWorkspaceBackend backend,
    WorkspaceSession session,
    TimeProvider time,
    IStringLocalizer<Strings> t,
    Func<Func<Task>, Task> dispatch,
    Func<bool, Task> saved,
    Func<Task> changed)
{
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(400);

    private CancellationTokenSource? _pending;
    private Task _saving = Task.CompletedTask;

    /// <summary>The open script has edits the server has not saved yet.</summary>
    public bool Dirty { get; private set; }

    /// <summary>Why the last save was refused (null when it was not).</summary>
    public string? Problem { get; private set; }

    /// <summary>Edits a lost connection kept from the server were put back.</summary>
    public bool RestoredUnsaved { get; private set; }

    /// <summary>The open script's text as typed: saved once no other edit follows within <see cref="Delay"/>.</summary>
    public Task EditedAsync(string text)
    {
        if (session.Current is not { } script || text == script.Content)
        {
            return Task.CompletedTask;
        }

        script.Content = text;
        Dirty = true;
        _pending?.Cancel();
        var pending = _pending = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(Delay, time, pending.Token);
                await dispatch(() => SaveAsync(script));
            }
            catch (OperationCanceledException)
            {
                // A newer edit saves instead.
            }
        });
        return Task.CompletedTask;
    }

    /// <summary>Saves what is typed now instead of in a moment (before a run, on leaving the script or the page).</summary>
    public async Task FlushAsync()
    {
        // The last keys typed may still be on their way to the server as a change event: a run takes the
        // text the student sees, so the editor's text counts.
        // The text is applied only to the script it was read for: another may have opened meanwhile (a double click).
        if (session.Current is { } script && session.Editor is { } editor && await editor.TextAsync() is { } text && script == session.Current)
        {
            await EditedAsync(text);
        }

        await SavePendingAsync();
    }

    /// <summary>Saves what the server has of the open script now instead of in a moment.</summary>
    public async Task SavePendingAsync()
    {
        _pending?.Cancel();
        await _saving;
        if (Dirty && session.Current is not null)
        {
            await SaveAsync(session.Current);
        }
    }

    /// <summary>The open script is deleted: what was typed in it is not saved.</summary>
    public void Forget()
    {
        _pending?.Cancel();
        Dirty = false;
    }

    /// <summary>Puts back an edit of the open script that a lost connection kept from the server, and saves it.</summary>
    public async Task WatchUnsavedAsync()
    {
        if (session.IsVisitor || session.Current is not { } script || session.Editor is not { } editor)
        {
            return;
        }

        if (await editor.WatchUnsavedAsync(session.UnsavedKey(script), script.Content) is { } kept && script == session.Current)
        {
            await editor.SetValueAsync(kept);
            await EditedAsync(kept);
            await FlushAsync();
            RestoredUnsaved = true;
        }
    }

    private async Task SaveAsync(OpenScript script)
    {
        if (session.IsVisitor)
        {
            // No account yet (it is being made, or was refused): the text waits in the page, unsaved.
            return;
        }

        var content = script.Content;
        try
        {
            _saving = backend.SaveScriptAsync(session.Owner, session.ProjectId, script.Path, content);
            await _saving;
            Problem = null;
            Dirty = script.Content != content;
            if (session.Editor is { } editor)
            {
                await editor.SavedAsync(session.UnsavedKey(script), content);
            }

            await saved(!Dirty && script == session.Current);
        }
        catch (ProjectRefusedException e)
        {
            Problem = t["Not saved: {0}", e.Message];
        }

        await changed();
    }
}
