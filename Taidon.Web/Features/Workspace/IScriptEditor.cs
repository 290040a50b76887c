namespace Taidon.Web.Features.Workspace;

/// <summary>What the workspace asks of its editor (<see cref="SqlEditor"/> in the browser, a stand-in in tests).</summary>
public interface IScriptEditor
{
    Task SetValueAsync(string text);

    Task<string?> TextAsync();

    Task<EditorSelection> GetSelectionAsync();

    Task SetErrorAsync(EditorError? error);

    Task SetStatementMarksAsync(IReadOnlyList<StatementMark> marks);

    Task<string?> WatchUnsavedAsync(string key, string serverText);

    Task SavedAsync(string key, string text);

    Task SetCompletionsAsync(IReadOnlyList<CompletionWord> words);
}
