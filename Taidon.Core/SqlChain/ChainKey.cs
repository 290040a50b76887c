using System.Security.Cryptography;
using System.Text;

namespace Taidon.Core.SqlChain;

/// <summary>
/// The name of a database state: h_0 names the engine, h_i = SHA-256(h_(i-1) || normalized statement i).
/// Prints as 64 lowercase hex characters; <see cref="Short"/> (12) is what the UI shows.
/// </summary>
public readonly struct ChainKey : IEquatable<ChainKey>
{
    public const int ShortLength = 12;

    private readonly byte[]? _bytes;

    private ChainKey(byte[] bytes) => _bytes = bytes;

    public ReadOnlySpan<byte> Bytes => _bytes ?? throw new InvalidOperationException("An empty chain key has no bytes.");

    public string Short => ToString()[..ShortLength];

    public static ChainKey Parse(string hex)
    {
        if (!TryParse(hex, out var key))
        {
            throw new FormatException($"'{hex}' is not a chain key: 64 lowercase hex characters are expected.");
        }

        return key;
    }

    public static bool TryParse(string? hex, out ChainKey key)
    {
        key = default;
        if (hex is not { Length: 64 } || hex.AsSpan().IndexOfAnyExcept("0123456789abcdef") >= 0)
        {
            return false;
        }

        key = new ChainKey(Convert.FromHexString(hex));
        return true;
    }

    /// <summary>The key of the state after <paramref name="statement"/> runs in the state named by this key.</summary>
    public ChainKey Next(SqlStatement statement) => Next(statement.Normalized, statement.CopyData);

    public ChainKey Next(string normalized, string? copyData = null)
    {
        var extra = copyData is null ? 0 : 1 + Encoding.UTF8.GetByteCount(copyData);
        var length = 32 + Encoding.UTF8.GetByteCount(normalized) + extra;
        var buffer = length <= 4096 ? stackalloc byte[length] : new byte[length];
        Bytes.CopyTo(buffer);
        var written = 32 + Encoding.UTF8.GetBytes(normalized, buffer[32..]);
        if (copyData is not null)
        {
            // A zero byte keeps "statement + data" apart from any statement text.
            buffer[written++] = 0;
            Encoding.UTF8.GetBytes(copyData, buffer[written..]);
        }

        return new ChainKey(SHA256.HashData(buffer));
    }

    internal static ChainKey Of(ReadOnlySpan<byte> content) => new(SHA256.HashData(content));

    public bool Equals(ChainKey other) =>
        _bytes is null ? other._bytes is null : other._bytes is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => obj is ChainKey other && Equals(other);

    public override int GetHashCode() => _bytes is null ? 0 : BitConverter.ToInt32(_bytes, 0);

    public override string ToString() => _bytes is null ? "" : Convert.ToHexStringLower(_bytes);

    public static bool operator ==(ChainKey left, ChainKey right) => left.Equals(right);

    public static bool operator !=(ChainKey left, ChainKey right) => !left.Equals(right);
}
