using System.Security.Cryptography;
using System.Text;

namespace Taidon.Core.SqlChain;

/// <summary>
/// Computes h_i = SHA-256(h_(i-1) || normalized statement [|| 0 || COPY data]) with one reused hash
/// context and buffer: a chain has many short statements, and a fresh context per key costs more than
/// hashing them.
/// </summary>
internal sealed class ChainHasher : IDisposable
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[] _buffer = new byte[1024];

    public ChainKey Next(ChainKey previous, string normalized, string? copyData)
    {
        Span<byte> bytes = stackalloc byte[32];
        previous.CopyTo(bytes);
        _sha256.AppendData(bytes);
        Append(normalized);
        if (copyData is not null)
        {
            // A zero byte keeps "statement + data" apart from any statement text.
            _sha256.AppendData([0]);
            Append(copyData);
        }

        _sha256.GetHashAndReset(bytes);
        return ChainKey.FromHash(bytes);
    }

    public void Dispose() => _sha256.Dispose();

    private void Append(string text)
    {
        var most = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (most > _buffer.Length)
        {
            _buffer = new byte[Math.Max(most, _buffer.Length * 2)];
        }

        var length = Encoding.UTF8.GetBytes(text, _buffer);
        _sha256.AppendData(_buffer, 0, length);
    }
}
