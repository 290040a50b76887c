using Microsoft.Extensions.Localization;
using Microsoft.JSInterop;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Web.Features.Localization;

namespace Taidon.Web.Features.Workspace;

/// <summary>
/// What the editor shows besides the text: the error of the last run, how the next run treats each
/// statement (the gutter marks) and the schema's names for completion. They are hints: when the browser
/// cannot take them (the circuit is gone, a decoration is refused) the work they follow still stands.
/// </summary>
public sealed class EditorDecorations(IWorkspaceBackend backend, WorkspaceSession session, IStringLocalizer<Strings> t, ILogger logger)
{
    /// <summary>Marks the first error of a run when it is in the open script (clears the mark otherwise).</summary>
    public Task ShowErrorAsync(RunResult result)
    {
        var error = result.Outcomes.Select(o => o.Error).FirstOrDefault(e => e is not null);
        var mark = error is { Position: { } at } && error.File == session.Current?.Path ? new EditorError(at.Line, at.Column, ErrorText(error)) : null;
        return InBrowserAsync(editor => editor.SetErrorAsync(mark), "the error mark");
    }

    private int _marksAsked;

    /// <summary>
    /// Shows in the gutter how the next run of the open script would treat each of its statements. Of
    /// several asked at once (the page's first, a run's), only the last asked is shown (all are asked on
    /// the circuit's dispatcher, one at a time).
    /// </summary>
    public async Task RefreshMarksAsync()
    {
        if (session.Current is null || session.Editor is null)
        {
            return;
        }

        var path = session.Current.Path;
        var asked = ++_marksAsked;
        try
        {
            var preview = await backend.PreviewAsync(session.Owner, session.Sources(), new HeadSelection(FromFile: path));
            var marks = preview is not { } p
                ? []
                : p.Chain.Statements
                    .Where(s => s.Span.File == path)
                    .Select(s => new StatementMark(s.Span.Start.Line, s.Span.End.Line, s.Index < p.Plan.From, p.Chain.Keys[s.Index + 1].ToString()))
                    .ToList();
            if (session.Current?.Path == path && asked == _marksAsked)
            {
                await InBrowserAsync(editor => editor.SetStatementMarksAsync(marks), "the statement marks");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The marks are a hint: a failure to compute them must not disturb the student.
            logger.LogWarning(e, "Could not preview the run of {Script}", path);
        }
    }

    /// <summary>The instance's schema changed: the page shows it and completion offers its names.</summary>
    public async Task SchemaChangedAsync(DatabaseSchema? schema)
    {
        session.Schema = schema;
        await CompletionsAsync();
    }

    public Task CompletionsAsync() => InBrowserAsync(editor => editor.SetCompletionsAsync(SchemaCompletions.From(session.Schema)), "the completion words");

    private async Task InBrowserAsync(Func<IScriptEditor, Task> decorate, string what)
    {
        if (session.Editor is not { } editor)
        {
            return;
        }

        try
        {
            await decorate(editor);
        }
        catch (Exception e) when (e is JSException or JSDisconnectedException)
        {
            logger.LogInformation(e, "The editor did not take {What}", what);
        }
    }

    /// <summary>What the error mark says on hover: SQLSTATE and message, then PostgreSQL's detail and hint, a line each.</summary>
    private string ErrorText(RunError error) =>
        $"{error.SqlState}: {error.Message}"
        + (error.Detail is null ? "" : $"\n{t["Detail"]}: {error.Detail}")
        + (error.Hint is null ? "" : $"\n{t["Hint"]}: {error.Hint}");
}
