namespace Taidon.Core.SqlChain;

/// <summary>A place in a script: 1-based line and column (UTF-16 code units, as editors count them).</summary>
public readonly record struct SourcePosition(int Line, int Column);

/// <summary>
/// Where a statement stands in its file: start and end (exclusive) as line and column, as character
/// indexes into the file's text, and as UTF-8 byte offsets into the file.
/// </summary>
public readonly record struct SourceSpan(
    string File,
    SourcePosition Start,
    SourcePosition End,
    int StartIndex,
    int EndIndex,
    long StartByte,
    long EndByte);

/// <summary>Something wrong with a script, with where it is and what to do about it.</summary>
public sealed record ScriptProblem(string File, SourcePosition Position, long ByteOffset, string Message, string? Hint = null)
{
    public override string ToString() =>
        $"{File}:{Position.Line}:{Position.Column}: {Message}{(Hint is null ? "" : " " + Hint)}";
}
