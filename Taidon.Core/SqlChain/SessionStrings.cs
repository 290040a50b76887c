using System.Text;

namespace Taidon.Core.SqlChain;

/// <summary>
/// Follows <c>standard_conforming_strings</c> through a script as the server would: SET and RESET,
/// SET LOCAL inside a transaction block, and a block's changes kept on COMMIT and dropped on ROLLBACK.
/// (A statement that fails is not modelled: a SET that the server refuses is still followed.)
/// </summary>
internal sealed class SessionStrings
{
    private bool _session = true;
    private bool? _transaction;
    private bool? _local;
    private bool _inTransaction;

    public bool Effective => _local ?? _transaction ?? _session;

    /// <summary>The whole state in one byte, to save where a split may resume and to compare with another split's.</summary>
    public byte State
    {
        get => (byte)((_session ? 1 : 0) | Pack(_transaction) << 1 | Pack(_local) << 3 | (_inTransaction ? 32 : 0));
        set
        {
            _session = (value & 1) != 0;
            _transaction = Unpack(value >> 1);
            _local = Unpack(value >> 3);
            _inTransaction = (value & 32) != 0;
        }
    }

    private static int Pack(bool? value) => value is { } v ? (v ? 3 : 2) : 0;

    private static bool? Unpack(int bits) => (bits & 2) == 0 ? null : (bits & 1) != 0;

    /// <param name="kind">What the statement is.</param>
    /// <param name="normalized">Its normalized form as UTF-8: made a string only when it names the setting.</param>
    public void Apply(StatementKind kind, ReadOnlySpan<byte> normalized)
    {
        if (kind is StatementKind.Session or StatementKind.Other
            && !normalized.SequenceEqual("reset all"u8) && !normalized.SequenceEqual("discard all"u8)
            && normalized.IndexOf("standard_conforming_strings"u8) < 0)
        {
            return;
        }

        Apply(kind, Encoding.UTF8.GetString(normalized));
    }

    private void Apply(StatementKind kind, string normalized)
    {
        switch (kind)
        {
            case StatementKind.TransactionStart:
                _inTransaction = true;
                _transaction = null;
                _local = null;
                break;
            case StatementKind.TransactionEnd:
                if (!normalized.StartsWith("rollback", StringComparison.Ordinal) && !normalized.StartsWith("abort", StringComparison.Ordinal))
                {
                    _session = _transaction ?? _session;
                }

                _inTransaction = false;
                _transaction = null;
                _local = null;
                break;
            case StatementKind.Session:
                ApplySetting(normalized);
                break;
            case StatementKind.Other:
                // SET LOCAL counts as Other (it ends with the transaction), but it changes the strings too.
                ApplySetting(normalized);
                ApplySetConfig(normalized);
                break;
        }
    }

    /// <summary>SELECT set_config('standard_conforming_strings', 'off', false) changes it too (psql follows what the server reports).</summary>
    private void ApplySetConfig(string normalized)
    {
        const string call = "set_config('standard_conforming_strings','";
        var at = normalized.IndexOf(call, StringComparison.Ordinal);
        if (at < 0)
        {
            return;
        }

        var rest = normalized.AsSpan(at + call.Length);
        var quote = rest.IndexOf('\'');
        if (quote < 0)
        {
            return;
        }

        var value = rest[..quote].ToString();
        rest = rest[(quote + 1)..];
        var local = rest.StartsWith(",true)", StringComparison.Ordinal);
        if (!local && !rest.StartsWith(",false)", StringComparison.Ordinal))
        {
            return;
        }

        if (Parse(value) is { } parsed)
        {
            Set(parsed, local);
        }
    }

    private void ApplySetting(string normalized)
    {
        if (normalized is "reset all" or "discard all" || normalized == "reset standard_conforming_strings")
        {
            Set(true, local: false);
            return;
        }

        const string name = "standard_conforming_strings";
        var local = false;
        var rest = normalized.AsSpan();
        if (!TakeWord(ref rest, "set"))
        {
            return;
        }

        if (TakeWord(ref rest, "local"))
        {
            local = true;
        }
        else
        {
            TakeWord(ref rest, "session");
        }

        if (!TakeWord(ref rest, name))
        {
            return;
        }

        if (!TakeWord(ref rest, "to") && !TakeWord(ref rest, "="))
        {
            rest = rest.TrimStart();
            if (rest.Length > 0 && rest[0] == '=')
            {
                rest = rest[1..];
            }
            else
            {
                return;
            }
        }

        if (Parse(rest.Trim().Trim('\'').ToString()) is { } parsed)
        {
            Set(parsed, local);
        }
    }

    private static bool? Parse(string value) => value.ToLowerInvariant() switch
    {
        "on" or "true" or "yes" or "1" or "t" or "y" or "default" => true,
        "off" or "false" or "no" or "0" or "f" or "n" => false,
        _ => null,
    };

    private void Set(bool value, bool local)
    {
        if (local)
        {
            // Outside a transaction block, SET LOCAL only warns.
            if (_inTransaction)
            {
                _local = value;
            }
        }
        else if (_inTransaction)
        {
            _transaction = value;
            _local = null;
        }
        else
        {
            _session = value;
        }
    }

    private static bool TakeWord(ref ReadOnlySpan<char> rest, string word)
    {
        var trimmed = rest.TrimStart();
        if (trimmed.StartsWith(word, StringComparison.Ordinal)
            && (trimmed.Length == word.Length || !SqlLexer.IsIdentifierPart(trimmed[word.Length]) || word == "="))
        {
            rest = trimmed[word.Length..];
            return true;
        }

        return false;
    }
}
