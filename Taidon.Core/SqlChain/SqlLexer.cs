using System.Buffers;

namespace Taidon.Core.SqlChain;

internal enum TokenKind : byte
{
    Whitespace,
    LineComment,
    BlockComment,
    Word,
    QuotedIdentifier,
    String,
    DollarString,
    Number,
    Parameter,
    Operator,
    Punctuation,
    OpenParen,
    CloseParen,
    Semicolon,
    Backslash,
    Other,
    Unterminated,
}

internal readonly record struct Token(TokenKind Kind, int Start, int End)
{
    public int Length => End - Start;
}

/// <summary>
/// PostgreSQL 15's lexical rules as psql applies them (psqlscan.l): just enough to know where
/// strings, identifiers, comments and dollar quotes begin and end, and what the words are.
/// </summary>
internal struct SqlLexer(string text)
{
    private static readonly SearchValues<char> OperatorChars = SearchValues.Create("~!@#^&|`?+-*/%<>=");
    private static readonly SearchValues<char> OperatorQualifiers = SearchValues.Create("~!@#^&|`?%");
    private static readonly SearchValues<char> StandardStringStops = SearchValues.Create("'");
    private static readonly SearchValues<char> EscapeStringStops = SearchValues.Create("'\\");
    private static readonly SearchValues<char> CommentStops = SearchValues.Create("*/");
    private static readonly SearchValues<char> WhitespaceChars = SearchValues.Create(" \t\n\r\f");

    private int _position = 0;

    public readonly string Text => text;

    public int Position
    {
        readonly get => _position;
        set => _position = value;
    }

    /// <summary>psql follows the server's standard_conforming_strings: with it off, backslashes escape in '' strings.</summary>
    public bool StandardConformingStrings { get; set; } = true;

    /// <summary>What an <see cref="TokenKind.Unterminated"/> token is missing.</summary>
    public string? UnterminatedWhat { get; private set; }

    public static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_' || c >= '\u0080';

    public static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '$' || c >= '\u0080';

    public static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f';

    public bool Next(out Token token)
    {
        var s = text;
        var start = _position;
        if (start >= s.Length)
        {
            token = default;
            return false;
        }

        var c = s[start];
        var next = start + 1 < s.Length ? s[start + 1] : '\0';
        TokenKind kind;
        int end;
        switch (c)
        {
            case ' ' or '\t' or '\n' or '\r' or '\f':
                end = s.AsSpan(start).IndexOfAnyExcept(WhitespaceChars);
                end = end < 0 ? s.Length : start + end;
                kind = TokenKind.Whitespace;
                break;
            case '-' when next == '-':
                end = s.IndexOf('\n', start);
                end = end < 0 ? s.Length : end;
                kind = TokenKind.LineComment;
                break;
            case '/' when next == '*':
                (kind, end) = BlockComment(start);
                break;
            case '\'':
                (kind, end) = QuotedString(start, start + 1, escapes: !StandardConformingStrings);
                break;
            case '"':
                (kind, end) = QuotedIdentifier(start, start + 1);
                break;
            case '$':
                (kind, end) = Dollar(start);
                break;
            case ';':
                (kind, end) = (TokenKind.Semicolon, start + 1);
                break;
            case '(':
                (kind, end) = (TokenKind.OpenParen, start + 1);
                break;
            case ')':
                (kind, end) = (TokenKind.CloseParen, start + 1);
                break;
            case ',' or '[' or ']':
                (kind, end) = (TokenKind.Punctuation, start + 1);
                break;
            case ':':
                (kind, end) = (TokenKind.Punctuation, next is ':' or '=' ? start + 2 : start + 1);
                break;
            case '.':
                (kind, end) = char.IsAsciiDigit(next) ? (TokenKind.Number, Number(start)) : (TokenKind.Punctuation, next == '.' ? start + 2 : start + 1);
                break;
            case '\\':
                (kind, end) = (TokenKind.Backslash, start + 1);
                break;
            default:
                if (char.IsAsciiDigit(c))
                {
                    (kind, end) = (TokenKind.Number, Number(start));
                }
                else if (IsIdentifierStart(c))
                {
                    (kind, end) = WordOrPrefixedString(start, c, next);
                }
                else if (OperatorChars.Contains(c))
                {
                    (kind, end) = (TokenKind.Operator, Operator(start));
                }
                else
                {
                    (kind, end) = (TokenKind.Other, start + 1);
                }

                break;
        }

        _position = end;
        token = new Token(kind, start, end);
        return true;
    }

    private (TokenKind, int) WordOrPrefixedString(int start, char c, char next)
    {
        var s = text;
        var lower = (char)(c | 0x20);
        if (next == '\'' && lower is 'e')
        {
            return QuotedString(start, start + 2, escapes: true);
        }

        if (next == '\'' && lower is 'b' or 'x')
        {
            return QuotedString(start, start + 2, escapes: false);
        }

        if (next == '\'' && lower is 'n')
        {
            return QuotedString(start, start + 2, escapes: !StandardConformingStrings);
        }

        if (lower == 'u' && next == '&' && start + 2 < s.Length)
        {
            if (s[start + 2] == '\'')
            {
                return QuotedString(start, start + 3, escapes: false);
            }

            if (s[start + 2] == '"')
            {
                return QuotedIdentifier(start, start + 3);
            }
        }

        var end = start + 1;
        while (end < s.Length && IsIdentifierPart(s[end]))
        {
            end++;
        }

        return (TokenKind.Word, end);
    }

    /// <summary>A quoted string from its opening quote's successor; '' is a quote, and with escapes a backslash takes the next character.</summary>
    private (TokenKind, int) QuotedString(int start, int bodyStart, bool escapes)
    {
        var s = text;
        var stops = escapes ? EscapeStringStops : StandardStringStops;
        var i = bodyStart;
        while (true)
        {
            var found = s.AsSpan(i).IndexOfAny(stops);
            if (found < 0)
            {
                UnterminatedWhat = "quoted string";
                return (TokenKind.Unterminated, s.Length);
            }

            i += found;
            if (s[i] == '\\')
            {
                i += 2;
                if (i > s.Length)
                {
                    UnterminatedWhat = "quoted string";
                    return (TokenKind.Unterminated, s.Length);
                }

                continue;
            }

            if (i + 1 < s.Length && s[i + 1] == '\'')
            {
                i += 2;
                continue;
            }

            // psql reads line by line, so it never sees 'a'<newline>'b' as one continued string: neither do we.
            return (TokenKind.String, i + 1);
        }
    }

    private (TokenKind, int) QuotedIdentifier(int start, int bodyStart)
    {
        var s = text;
        var i = bodyStart;
        while (true)
        {
            var found = s.IndexOf('"', i);
            if (found < 0)
            {
                UnterminatedWhat = "quoted identifier";
                return (TokenKind.Unterminated, s.Length);
            }

            if (found + 1 < s.Length && s[found + 1] == '"')
            {
                i = found + 2;
                continue;
            }

            return (TokenKind.QuotedIdentifier, found + 1);
        }
    }

    private (TokenKind, int) BlockComment(int start)
    {
        var s = text;
        var depth = 1;
        var i = start + 2;
        while (depth > 0)
        {
            var found = s.AsSpan(i).IndexOfAny(CommentStops);
            if (found < 0)
            {
                UnterminatedWhat = "/* comment";
                return (TokenKind.Unterminated, s.Length);
            }

            i += found;
            if (s[i] == '*' && i + 1 < s.Length && s[i + 1] == '/')
            {
                depth--;
                i += 2;
            }
            else if (s[i] == '/' && i + 1 < s.Length && s[i + 1] == '*')
            {
                depth++;
                i += 2;
            }
            else
            {
                i++;
            }
        }

        return (TokenKind.BlockComment, i);
    }

    private (TokenKind, int) Dollar(int start)
    {
        var s = text;
        var i = start + 1;
        if (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            return (TokenKind.Parameter, i);
        }

        // $tag$ or $$: the tag is an identifier without '$'.
        if (i < s.Length && s[i] != '$')
        {
            if (!IsIdentifierStart(s[i]))
            {
                return (TokenKind.Other, start + 1);
            }

            while (i < s.Length && IsIdentifierPart(s[i]) && s[i] != '$')
            {
                i++;
            }

            if (i >= s.Length || s[i] != '$')
            {
                // Not a dollar quote: psql echoes the '$' alone and goes on.
                return (TokenKind.Other, start + 1);
            }
        }

        if (i >= s.Length)
        {
            return (TokenKind.Other, start + 1);
        }

        var delimiter = s.AsSpan(start, i - start + 1);
        var close = s.AsSpan(i + 1).IndexOf(delimiter, StringComparison.Ordinal);
        if (close < 0)
        {
            UnterminatedWhat = $"dollar-quoted string ({delimiter.ToString()})";
            return (TokenKind.Unterminated, s.Length);
        }

        return (TokenKind.DollarString, i + 1 + close + delimiter.Length);
    }

    /// <summary>PostgreSQL 15 numbers: digits, a fraction, an exponent; a letter right after is taken as junk, one character.</summary>
    private readonly int Number(int start)
    {
        var s = text;
        var i = start;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }

        if (i < s.Length && s[i] == '.' && !(i + 1 < s.Length && s[i + 1] == '.'))
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
        }

        if (i < s.Length && (s[i] | 0x20) == 'e')
        {
            var j = i + 1;
            if (j < s.Length && s[j] is '+' or '-')
            {
                j++;
            }

            if (j < s.Length && char.IsAsciiDigit(s[j]))
            {
                i = j;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }
            }
        }

        if (i < s.Length && IsIdentifierStart(s[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>An operator: the longest run of operator characters, cut before an embedded comment start, with PostgreSQL's rule for a trailing + or -.</summary>
    private readonly int Operator(int start)
    {
        var s = text;
        var end = start + 1;
        while (end < s.Length && OperatorChars.Contains(s[end]))
        {
            var c = s[end];
            if ((c == '-' && s[end - 1] == '-') || (c == '*' && s[end - 1] == '/'))
            {
                end--;
                break;
            }

            end++;
        }

        var length = end - start;
        if (length > 1 && s[end - 1] is '+' or '-' && s.AsSpan(start, length - 1).IndexOfAny(OperatorQualifiers) < 0)
        {
            do
            {
                end--;
            }
            while (end - start > 1 && s[end - 1] is '+' or '-');
        }

        return end;
    }
}
