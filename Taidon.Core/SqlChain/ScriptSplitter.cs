namespace Taidon.Core.SqlChain;

/// <summary>
/// One pass over one file: psql's rules for where a statement ends, and the normalized form built on the way.
/// After each statement it notes where it could resume (<see cref="SplitCheckpoint"/>), for <see cref="IncrementalSplit"/>.
/// </summary>
internal sealed class ScriptSplitter(SourceText file, SessionStrings session, SplitOutput output)
{
    private readonly string _text = file.Text;
    private readonly NormalizedBuilder _normalized = new();
    private readonly List<SqlStatement> _statements = output.Statements;
    private SqlLexer _lexer = new(file.Text) { StandardConformingStrings = session.Effective };

    // psql's state (psqlscan.l): parentheses, BEGIN ... END of SQL-standard bodies, and the first words.
    private int _parenDepth;
    private int _beginDepth;
    private int _identifierCount;
    private readonly char[] _identifiers = new char[4];

    // The statement being read.
    private int _start = -1;
    private int _end;
    private Keyword _firstWord;
    private Keyword _secondWord;
    private int _words;
    private bool _afterFrom;
    private bool _fromStdin;

    // A change of standard_conforming_strings applies from the next line on, as in psql.
    private int _applyStringsFrom = -1;

    // The data lines of a COPY ... FROM STDIN, skipped when the lexer reaches them (the rest of the COPY's line comes first, as in psql).
    private int _copySkipFrom = -1;
    private int _copySkipTo;
    private bool _newline;

    /// <summary>Splits the file from its start, or from <paramref name="from"/>; stops early (and says so) after a statement <paramref name="stopAfter"/> accepts.</summary>
    public bool Run(SplitCheckpoint? from = null, Func<SplitCheckpoint, bool>? stopAfter = null)
    {
        if (from is { } resume)
        {
            _lexer.Position = resume.End;
            _lexer.StandardConformingStrings = resume.Strings;
            _applyStringsFrom = resume.ApplyStringsFrom;
            _copySkipFrom = resume.CopySkipFrom;
            _copySkipTo = resume.CopySkipTo;
            session.State = resume.Session;
        }

        while (true)
        {
            if (_applyStringsFrom >= 0 && _lexer.Position >= _applyStringsFrom)
            {
                _lexer.StandardConformingStrings = session.Effective;
                _applyStringsFrom = -1;
            }

            if (!_lexer.Next(out var token))
            {
                break;
            }

            if (_copySkipFrom >= 0 && token.End > _copySkipFrom)
            {
                var skipFrom = _copySkipFrom;
                _lexer.Position = _copySkipTo;
                _copySkipFrom = -1;
                _newline = true;
                if (token.Start < skipFrom && token.Kind is not (TokenKind.Whitespace or TokenKind.LineComment))
                {
                    Problem(token.Start, "This token runs into the data of the COPY ... FROM STDIN above it.", "Finish the line of the COPY statement before its data starts.");
                }

                continue;
            }

            switch (token.Kind)
            {
                case TokenKind.Whitespace:
                    _newline |= _text.AsSpan(token.Start, token.Length).Contains('\n');
                    continue;
                case TokenKind.LineComment:
                    _newline = true;
                    continue;
                case TokenKind.BlockComment:
                    continue;
                case TokenKind.Unterminated:
                    Problem(token.Start, $"This {_lexer.UnterminatedWhat} is never closed.", UnterminatedHint(token));
                    return false;
                case TokenKind.Backslash:
                    MetaCommand(token);
                    continue;
                case TokenKind.Semicolon when _parenDepth == 0 && _beginDepth == 0:
                    _identifierCount = 0;
                    if (_start >= 0)
                    {
                        _end = token.End;
                        if (Finish(terminated: true) is { } checkpoint && stopAfter?.Invoke(checkpoint) == true)
                        {
                            return true;
                        }
                    }

                    continue;
                default:
                    Significant(token);
                    continue;
            }
        }

        if (_start >= 0)
        {
            Finish(terminated: false);
        }

        return false;
    }

    private void Significant(Token token)
    {
        if (_start < 0)
        {
            _start = token.Start;
        }

        _end = token.End;
        _normalized.Append(_text, token, _newline);
        _newline = false;

        switch (token.Kind)
        {
            case TokenKind.OpenParen:
                _parenDepth++;
                break;
            case TokenKind.CloseParen:
                if (_parenDepth > 0)
                {
                    _parenDepth--;
                }

                break;
            case TokenKind.Word:
                Word(token);
                break;
        }

        if (token.Kind != TokenKind.Word)
        {
            _afterFrom = false;
        }
    }

    /// <summary>psqlscan.l's heuristic for SQL-standard function bodies, to the letter.</summary>
    private void Word(Token token)
    {
        var word = _text.AsSpan(token.Start, token.Length);
        if (_identifierCount == 0)
        {
            Array.Clear(_identifiers);
        }

        // Only the first four words can make the CREATE [OR REPLACE] FUNCTION|PROCEDURE prefix.
        if (_identifierCount < _identifiers.Length && IsFunctionPrefixWord(word))
        {
            _identifiers[_identifierCount] = char.ToLowerInvariant(word[0]);
        }

        _identifierCount++;

        if (_identifiers[0] == 'c'
            && (_identifiers[1] is 'f' or 'p' || (_identifiers[1] == 'o' && _identifiers[2] == 'r' && _identifiers[3] is 'f' or 'p'))
            && _parenDepth == 0)
        {
            if (Is(word, "begin"))
            {
                _beginDepth++;
            }
            else if (Is(word, "case"))
            {
                if (_beginDepth >= 1)
                {
                    _beginDepth++;
                }
            }
            else if (Is(word, "end") && _beginDepth > 0)
            {
                _beginDepth--;
            }
        }

        // What kind of statement this is: its first two words, and COPY ... FROM STDIN.
        if (_parenDepth == 0)
        {
            if (_words < 2)
            {
                var keyword = KeywordOf(word);
                if (_words++ == 0)
                {
                    _firstWord = keyword;
                }
                else
                {
                    _secondWord = keyword;
                }
            }
            else if (_firstWord == Keyword.Copy)
            {
                if (_afterFrom && Is(word, "stdin"))
                {
                    _fromStdin = true;
                }

                _afterFrom = Is(word, "from");
            }
        }
    }

    /// <summary>Adds the statement read; returns where the split could resume after it (none after a statement the end of the file cut short).</summary>
    private SplitCheckpoint? Finish(bool terminated)
    {
        var normalized = output.Normalized.Add(_normalized.AsSpan(), out var exact);
        var kind = Classify();
        var statementEnd = _end;
        string? copyData = null;
        if (kind == StatementKind.CopyFromStdin && terminated)
        {
            copyData = ReadCopyData(statementEnd);
        }

        _statements.Add(new SqlStatement(_statements.Count, file, _start, statementEnd, normalized, exact ? null : _normalized.ToString(), kind, copyData));

        var before = session.Effective;
        session.Apply(kind, normalized.Span);
        if (session.Effective != before)
        {
            var newline = _text.IndexOf('\n', statementEnd);
            _applyStringsFrom = newline < 0 ? _text.Length : newline + 1;
        }

        StartOver();

        SplitCheckpoint? checkpoint = terminated
            ? new SplitCheckpoint(statementEnd, _lexer.StandardConformingStrings, _applyStringsFrom, _copySkipFrom, _copySkipFrom < 0 ? 0 : _copySkipTo, session.State)
            : null;
        output.Checkpoints.Add(checkpoint ?? SplitCheckpoint.None);
        return checkpoint;
    }

    /// <summary>Forgets the statement read so far (it was added, or psql's \r dropped it).</summary>
    private void StartOver()
    {
        _normalized.Clear();
        _start = -1;
        _firstWord = Keyword.None;
        _secondWord = Keyword.None;
        _words = 0;
        _afterFrom = false;
        _fromStdin = false;
    }

    private StatementKind Classify() => (_firstWord, _secondWord) switch
    {
        (Keyword.Set, Keyword.Transaction or Keyword.Constraints or Keyword.Local) => StatementKind.Other,
        (Keyword.Set or Keyword.Reset or Keyword.Discard, _) => StatementKind.Session,
        (Keyword.Begin, _) => StatementKind.TransactionStart,
        (Keyword.Start, Keyword.Transaction) => StatementKind.TransactionStart,
        (Keyword.Commit or Keyword.Rollback, Keyword.Prepared) => StatementKind.Other,
        (Keyword.Rollback, Keyword.To) => StatementKind.Other,
        (Keyword.Commit or Keyword.End or Keyword.Rollback or Keyword.Abort, _) => StatementKind.TransactionEnd,
        (Keyword.Prepare, Keyword.Transaction) => StatementKind.TransactionEnd,
        (Keyword.Copy, _) when _fromStdin => StatementKind.CopyFromStdin,
        _ => StatementKind.Other,
    };

    /// <summary>The words that decide a statement's kind, recognised without allocating.</summary>
    private enum Keyword : byte
    {
        None, Other, Set, Reset, Discard, Begin, Start, Commit, End, Rollback, Abort, Prepare, Copy, Transaction, Constraints, Local, Prepared, To,
    }

    private static Keyword KeywordOf(ReadOnlySpan<char> word) => word.Length switch
    {
        2 when Is(word, "to") => Keyword.To,
        3 when Is(word, "set") => Keyword.Set,
        3 when Is(word, "end") => Keyword.End,
        4 when Is(word, "copy") => Keyword.Copy,
        5 when Is(word, "reset") => Keyword.Reset,
        5 when Is(word, "begin") => Keyword.Begin,
        5 when Is(word, "start") => Keyword.Start,
        5 when Is(word, "abort") => Keyword.Abort,
        5 when Is(word, "local") => Keyword.Local,
        6 when Is(word, "commit") => Keyword.Commit,
        7 when Is(word, "discard") => Keyword.Discard,
        7 when Is(word, "prepare") => Keyword.Prepare,
        8 when Is(word, "rollback") => Keyword.Rollback,
        8 when Is(word, "prepared") => Keyword.Prepared,
        11 when Is(word, "transaction") => Keyword.Transaction,
        11 when Is(word, "constraints") => Keyword.Constraints,
        _ => Keyword.Other,
    };

    /// <summary>
    /// COPY ... FROM STDIN: the data is every line after the statement's line up to one that is just
    /// <c>\.</c> (or the end of the file). Like psql, whatever follows the COPY on its own line still runs,
    /// before the lexer skips the data.
    /// </summary>
    private string ReadCopyData(int statementEnd)
    {
        var lineEnd = _text.IndexOf('\n', statementEnd);
        if (lineEnd < 0)
        {
            return "";
        }

        var dataStart = lineEnd + 1;
        var lineStart = dataStart;
        string data;
        while (true)
        {
            if (lineStart >= _text.Length)
            {
                // Like psql, the end of the file ends the data.
                data = _text[dataStart..];
                _copySkipTo = _text.Length;
                break;
            }

            var next = _text.IndexOf('\n', lineStart);
            var line = _text.AsSpan(lineStart, (next < 0 ? _text.Length : next) - lineStart).TrimEnd('\r');
            if (line.SequenceEqual("\\."))
            {
                data = _text[dataStart..lineStart];
                _copySkipTo = next < 0 ? _text.Length : next + 1;
                break;
            }

            lineStart = next < 0 ? _text.Length : next + 1;
        }

        _copySkipFrom = dataStart;
        return data;
    }

    private void MetaCommand(Token token)
    {
        var lineEnd = _text.IndexOf('\n', token.Start);
        lineEnd = lineEnd < 0 ? _text.Length : lineEnd;
        var command = _text.AsSpan(token.Start, lineEnd - token.Start);
        var nameEnd = command[1..].IndexOfAny(" \t\r\\;");
        var name = (nameEnd < 0 ? command : command[..(nameEnd + 1)]).ToString();
        var hint = name.ToLowerInvariant() switch
        {
            "\\copy" => "Write COPY ... FROM STDIN; with the data on the lines that follow, ended by a line \\. (Taidon reads that), or INSERT ... VALUES.",
            "\\i" or "\\ir" or "\\include" or "\\include_relative" => "Put that script into the project instead: the chain runs init/, seed/ and the script you run, in order.",
            "\\set" or "\\unset" or "\\gset" => "psql variables are not available; write the values into the SQL.",
            "\\c" or "\\connect" => "Each project works in one database; create schemas instead of databases.",
            "\\." => "A \\. line only ends the data of COPY ... FROM STDIN.",
            "\\;" => "Write a plain semicolon: each statement runs on its own.",
            "\\g" or "\\gx" or "\\gexec" => "End the statement with a semicolon instead.",
            _ => "Taidon runs SQL statements only; psql's backslash commands are not available.",
        };
        Problem(token.Start, $"The psql command {name} is not SQL, and Taidon does not run psql commands.", hint);
        _lexer.Position = lineEnd;

        // What psql does with the statement typed so far: \g and its kind send it, \r drops it, the rest keep it.
        switch (name.ToLowerInvariant())
        {
            case "\\g" or "\\gx" or "\\gset" or "\\gexec" or "\\gdesc" or "\\crosstabview" or "\\watch" when _start >= 0:
                Finish(terminated: false);
                break;
            case "\\r" or "\\reset":
                StartOver();
                break;
            default:
                return;
        }

        _parenDepth = 0;
        _beginDepth = 0;
        _identifierCount = 0;
    }

    private string UnterminatedHint(Token token) => _lexer.UnterminatedWhat switch
    {
        "quoted string" when !_lexer.StandardConformingStrings || _text[token.Start] is 'e' or 'E' =>
            "Close it with '. Here a backslash escapes the next character, so write \\\\ for a backslash and '' or \\' for a quote.",
        "quoted string" => "Close it with '; write '' for a quote inside it.",
        "quoted identifier" => "Close it with \"; write \"\" for a double quote inside it.",
        "/* comment" => "Close it with */; comments nest, so every /* inside needs its own */.",
        _ => "Close it with the same $tag$ it was opened with.",
    };

    private void Problem(int index, string message, string? hint) => output.Problems.Add(file.Problem(index, message, hint));

    private static bool Is(ReadOnlySpan<char> word, string keyword) => word.Equals(keyword, StringComparison.OrdinalIgnoreCase);

    private static bool IsFunctionPrefixWord(ReadOnlySpan<char> word) => word.Length switch
    {
        2 => Is(word, "or"),
        6 => Is(word, "create"),
        7 => Is(word, "replace"),
        8 => Is(word, "function"),
        9 => Is(word, "procedure"),
        _ => false,
    };
}
