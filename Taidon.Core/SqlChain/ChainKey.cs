using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Taidon.Core.SqlChain;

/// <summary>
/// The name of a database state: h_0 names the engine, h_i = SHA-256(h_(i-1) || normalized statement i).
/// Prints as 64 lowercase hex characters; <see cref="Short"/> (12) is what the UI shows. A value type
/// of 32 bytes, so a chain of 100,000 keys is one array.
/// </summary>
public readonly struct ChainKey : IEquatable<ChainKey>
{
    public const int ShortLength = 12;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    private ChainKey(ReadOnlySpan<byte> hash)
    {
        _a = BinaryPrimitives.ReadUInt64BigEndian(hash);
        _b = BinaryPrimitives.ReadUInt64BigEndian(hash[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(hash[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(hash[24..]);
    }

    /// <summary>True for <c>default(ChainKey)</c>, which names no state.</summary>
    public bool IsEmpty => (_a | _b | _c | _d) == 0;

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
    public ChainKey Next(SqlStatement statement) => new ChainHasher().Next(this, statement.NormalizedUtf8, statement.CopyData);

    public ChainKey Next(string normalized, string? copyData = null) => new ChainHasher().Next(this, normalized, copyData);

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[32];
        CopyTo(bytes);
        return bytes;
    }

    internal static ChainKey Of(ReadOnlySpan<byte> content) => new(SHA256.HashData(content));

    internal static ChainKey FromHash(ReadOnlySpan<byte> hash) => new(hash);

    public bool Equals(ChainKey other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is ChainKey other && Equals(other);

    public override int GetHashCode() => (int)_a;

    public override string ToString()
    {
        if (IsEmpty)
        {
            return "";
        }

        Span<byte> bytes = stackalloc byte[32];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public static bool operator ==(ChainKey left, ChainKey right) => left.Equals(right);

    public static bool operator !=(ChainKey left, ChainKey right) => !left.Equals(right);
}
