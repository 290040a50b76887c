namespace Taidon.Web.Features.Workspace;

/// <summary>A selection in the editor, 1-based like PostgreSQL's positions; empty when start equals end (the cursor).</summary>
public sealed record EditorSelection(int StartLine, int StartColumn, int EndLine, int EndColumn)
{
    public bool IsEmpty => StartLine == EndLine && StartColumn == EndColumn;
}

/// <summary>An error to mark in the editor.</summary>
public sealed record EditorError(int Line, int Column, string Message);

/// <summary>A statement's state in the gutter: whether the next run takes it from the cache or executes it, and its chain key.</summary>
public sealed record StatementMark(int StartLine, int EndLine, bool Cached, string Key);

/// <summary>A name the editor offers to complete: what to show, what to insert (quoted when needed), its kind and a detail.</summary>
public sealed record CompletionWord(string Label, string Insert, string Kind, string Detail);
