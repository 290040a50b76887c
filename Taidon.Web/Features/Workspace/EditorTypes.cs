namespace Taidon.Web.Features.Workspace;

/// <summary>A selection in the editor, 1-based like PostgreSQL's positions; empty when start equals end (the cursor).</summary>
public sealed record EditorSelection(int StartLine, int StartColumn, int EndLine, int EndColumn)
{
    public bool IsEmpty => StartLine == EndLine && StartColumn == EndColumn;
}

/// <summary>An error to mark in the editor.</summary>
public sealed record EditorError(int Line, int Column, string Message);
