namespace Taidon.Core.SqlChain;

/// <summary>What a statement does to the session, as far as the chain is concerned.</summary>
public enum StatementKind
{
    /// <summary>Anything else: it may change the database.</summary>
    Other,

    /// <summary>SET, RESET, DISCARD: changes the session, not the database; re-applied after a restore.</summary>
    Session,

    /// <summary>BEGIN or START TRANSACTION: no layer can be taken until the block ends.</summary>
    TransactionStart,

    /// <summary>COMMIT, END, ROLLBACK, ABORT, PREPARE TRANSACTION.</summary>
    TransactionEnd,

    /// <summary>COPY ... FROM STDIN with its data inline, after the statement, up to a line <c>\.</c>.</summary>
    CopyFromStdin,
}

/// <summary>
/// One statement of a script, as psql would send it: <see cref="Text"/> runs from its first character
/// that is not whitespace or a comment through its terminating semicolon (when it has one).
/// </summary>
public sealed class SqlStatement(int index, string source, string normalized, SourceSpan span, StatementKind kind, string? copyData = null)
{
    private string? _text;

    public int Index { get; } = index;

    /// <summary>The statement as written (taken from the script when first asked for).</summary>
    public string Text => _text ??= source.Substring(Span.StartIndex, Span.EndIndex - Span.StartIndex);

    public string Normalized { get; } = normalized;

    public SourceSpan Span { get; } = span;

    public StatementKind Kind { get; } = kind;

    /// <summary>The data lines of a COPY ... FROM STDIN, without the closing <c>\.</c> line.</summary>
    public string? CopyData { get; } = copyData;

    /// <summary>
    /// Maps a PostgreSQL error position (1-based, in characters of <see cref="Text"/>) to the line and
    /// column in the file the student typed.
    /// </summary>
    public SourcePosition Locate(int serverPosition)
    {
        var text = Text;
        var line = Span.Start.Line;
        var column = Span.Start.Column;
        var characters = 1;
        for (var i = 0; i < text.Length && characters < serverPosition; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                column += 2;
            }
            else if (text[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }

            characters++;
        }

        return new SourcePosition(line, column);
    }

    public override string ToString() => $"{Span.File}:{Span.Start.Line}: {Normalized}";
}
