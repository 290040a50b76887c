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
public sealed record SqlStatement(
    int Index,
    string Text,
    string Normalized,
    SourceSpan Span,
    StatementKind Kind,
    string? CopyData = null)
{
    /// <summary>
    /// Maps a PostgreSQL error position (1-based, in characters of <see cref="Text"/>) to the line and
    /// column in the file the student typed.
    /// </summary>
    public SourcePosition Locate(int serverPosition)
    {
        var line = Span.Start.Line;
        var column = Span.Start.Column;
        var characters = 1;
        for (var i = 0; i < Text.Length && characters < serverPosition; i++)
        {
            if (char.IsHighSurrogate(Text[i]) && i + 1 < Text.Length && char.IsLowSurrogate(Text[i + 1]))
            {
                i++;
                column += 2;
            }
            else if (Text[i] == '\n')
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
}
