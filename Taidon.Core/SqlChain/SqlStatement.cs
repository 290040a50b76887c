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
/// <remarks>
/// A split can hold 100,000 of these, so each keeps only indexes into its file and its normalized form
/// as UTF-8 (<see cref="NormalizedStore"/>): text, span and normalized string are made when asked for.
/// </remarks>
public sealed class SqlStatement
{
    private readonly SourceText _file;
    private readonly int _start;
    private readonly int _end;
    private readonly NormalizedText _normalizedUtf8;
    private string? _normalized;
    private string? _text;

    internal SqlStatement(int index, SourceText file, int start, int end, NormalizedText normalizedUtf8, string? normalized, StatementKind kind, string? copyData)
    {
        Index = index;
        _file = file;
        _start = start;
        _end = end;
        _normalizedUtf8 = normalizedUtf8;
        _normalized = normalized;
        Kind = kind;
        CopyData = copyData;
    }

    public int Index { get; }

    /// <summary>The statement as written.</summary>
    public string Text => _text ??= _file.Text.Substring(_start, _end - _start);

    public string Normalized => _normalized ??= System.Text.Encoding.UTF8.GetString(_normalizedUtf8.Span);

    public SourceSpan Span => _file.Span(_start, _end);

    public StatementKind Kind { get; }

    /// <summary>The data lines of a COPY ... FROM STDIN, without the closing <c>\.</c> line.</summary>
    public string? CopyData { get; }

    /// <summary>What the chain key hashes: the normalized form as UTF-8.</summary>
    internal ReadOnlySpan<byte> NormalizedUtf8 => _normalizedUtf8.Span;

    internal SourceText File => _file;

    internal int StartIndex => _start;

    internal int EndIndex => _end;

    /// <summary>The same statement at another place of the chain: <paramref name="index"/>, in <paramref name="file"/>, moved by <paramref name="shift"/> characters.</summary>
    internal SqlStatement Moved(int index, SourceText file, int shift) =>
        new(index, file, _start + shift, _end + shift, _normalizedUtf8, _normalized, Kind, CopyData);

    /// <summary>
    /// Maps a PostgreSQL error position (1-based, in characters of <see cref="Text"/>) to the line and
    /// column in the file the student typed.
    /// </summary>
    public SourcePosition Locate(int serverPosition)
    {
        var text = Text;
        var (line, column) = Span.Start;
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
