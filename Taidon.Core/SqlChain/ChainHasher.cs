using System.Security.Cryptography;
using System.Text;

namespace Taidon.Core.SqlChain;

/// <summary>
/// Computes h_i = SHA-256(h_(i-1) || normalized statement [|| 0 || COPY data]): the input is laid out in
/// one reused buffer and given to one reused hash context in one piece, since a chain has many short
/// statements and each call into the crypto library costs about as much as hashing one of them.
/// </summary>
internal sealed class ChainHasher
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[] _buffer = new byte[1024];

    public ChainKey Next(ChainKey previous, string normalized, string? copyData) =>
        Next(previous, Encoding.UTF8.GetBytes(normalized), copyData);

    public ChainKey Next(ChainKey previous, ReadOnlySpan<byte> normalized, string? copyData)
    {
        var length = 32 + normalized.Length;
        var most = length + (copyData is null ? 0 : 1 + Encoding.UTF8.GetMaxByteCount(copyData.Length));
        if (most > _buffer.Length)
        {
            _buffer = new byte[Math.Max(most, _buffer.Length * 2)];
        }

        previous.CopyTo(_buffer);
        normalized.CopyTo(_buffer.AsSpan(32));
        if (copyData is not null)
        {
            // A zero byte keeps "statement + data" apart from any statement text.
            _buffer[length++] = 0;
            length += Encoding.UTF8.GetBytes(copyData, _buffer.AsSpan(length));
        }

        Span<byte> hash = stackalloc byte[32];
        _sha256.AppendData(_buffer, 0, length);
        _sha256.GetHashAndReset(hash);
        return ChainKey.FromHash(hash);
    }
}
