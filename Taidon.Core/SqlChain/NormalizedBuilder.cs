namespace Taidon.Core.SqlChain;

/// <summary>
/// Builds a statement's normalized form token by token: comments and insignificant whitespace go,
/// unquoted words fold to lower case (ASCII, as PostgreSQL folds them), and strings, quoted identifiers
/// and dollar-quoted bodies stay byte for byte. A space is put between two tokens exactly where gluing
/// them would make PostgreSQL read something else, so the spacing of the source never matters.
/// </summary>
internal sealed class NormalizedBuilder
{
    private char[] _buffer = new char[256];
    private int _length;
    private TokenKind _previousKind;
    private char _previousLast;

    public int Length => _length;

    public void Clear() => _length = 0;

    public override string ToString() => new(_buffer, 0, _length);

    public ReadOnlySpan<char> AsSpan() => _buffer.AsSpan(0, _length);

    /// <param name="text">The script.</param>
    /// <param name="token">The token to add.</param>
    /// <param name="afterNewline">Whether a line ended between the previous token and this one.</param>
    public void Append(string text, Token token, bool afterNewline)
    {
        var value = text.AsSpan(token.Start, token.Length);
        if (_length > 0 && token.Kind == TokenKind.String && _previousKind == TokenKind.String && afterNewline)
        {
            // 'a'<newline>'b' is one string to PostgreSQL, 'a' 'b' is an error: keep the difference.
            Add('\n');
        }
        else if (_length > 0 && NeedsSpace(_previousKind, _previousLast, token.Kind, value[0]))
        {
            Add(' ');
        }

        Ensure(value.Length);
        var target = _buffer.AsSpan(_length, value.Length);
        switch (token.Kind)
        {
            case TokenKind.Word or TokenKind.Number:
                Fold(value, target);
                break;
            case TokenKind.String or TokenKind.QuotedIdentifier:
                // Fold the prefix (E, B, X, N, U&) and keep the quoted part as written.
                var quote = value.IndexOfAny('\'', '"');
                value.CopyTo(target);
                Fold(value[..quote], target[..quote]);
                break;
            default:
                value.CopyTo(target);
                break;
        }

        _length += value.Length;
        _previousKind = token.Kind;
        _previousLast = value[^1];
    }

    private static bool NeedsSpace(TokenKind previous, char previousLast, TokenKind current, char first)
    {
        var previousWord = IsWordLike(previous);
        var currentWord = IsWordLike(current);
        return (previousWord && currentWord)
            || (previous == TokenKind.Operator && (current is TokenKind.Operator or TokenKind.String or TokenKind.QuotedIdentifier))
            || (previous == TokenKind.Number && first == '.')
            || (previousLast == '.' && (current == TokenKind.Number || first == '.'))
            || (previousLast == ':' && first is ':' or '=');
    }

    private static bool IsWordLike(TokenKind kind) =>
        kind is TokenKind.Word or TokenKind.QuotedIdentifier or TokenKind.String or TokenKind.DollarString
            or TokenKind.Number or TokenKind.Parameter or TokenKind.Other;

    private static void Fold(ReadOnlySpan<char> source, Span<char> target)
    {
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            target[i] = c is >= 'A' and <= 'Z' ? (char)(c | 0x20) : c;
        }
    }

    private void Add(char c)
    {
        Ensure(1);
        _buffer[_length++] = c;
    }

    private void Ensure(int extra)
    {
        if (_length + extra > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + extra));
        }
    }
}
