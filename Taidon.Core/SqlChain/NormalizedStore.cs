using System.Buffers;
using System.Text.Unicode;

namespace Taidon.Core.SqlChain;

/// <summary>
/// Where a split keeps its statements' normalized forms: as UTF-8 (what the chain key hashes), side by
/// side in a few large blocks instead of one string per statement, so a split of 100,000 statements
/// leaves the garbage collector a few arrays to look at. A form is made a string only when asked for.
/// </summary>
internal sealed class NormalizedStore(int expectedBytes)
{
    private const int MostPerBlock = 1 << 20;

    private byte[] _block = [];
    private int _used;
    private int _nextBlock = Math.Clamp(expectedBytes, 256, MostPerBlock);

    /// <summary>
    /// Stores <paramref name="normalized"/>. <paramref name="exact"/> is false when it is not valid UTF-16
    /// (a lone surrogate): UTF-8 then holds U+FFFD for it, as <c>Encoding.UTF8</c> would, and the caller
    /// keeps the string as it is.
    /// </summary>
    public NormalizedText Add(ReadOnlySpan<char> normalized, out bool exact)
    {
        var most = normalized.Length * 3;
        if (_block.Length - _used < most)
        {
            _block = GC.AllocateUninitializedArray<byte>(Math.Max(most, _nextBlock));
            _used = 0;
            _nextBlock = Math.Min(_nextBlock * 2, MostPerBlock);
        }

        var target = _block.AsSpan(_used);
        exact = Utf8.FromUtf16(normalized, target, out _, out var written, replaceInvalidSequences: false) == OperationStatus.Done;
        if (!exact)
        {
            Utf8.FromUtf16(normalized, target, out _, out written);
        }

        var stored = new NormalizedText(_block, _used, written);
        _used += written;
        return stored;
    }
}

/// <summary>A normalized form as UTF-8 bytes in a <see cref="NormalizedStore"/> block.</summary>
internal readonly record struct NormalizedText(byte[] Block, int Start, int Length)
{
    public ReadOnlySpan<byte> Span => Block.AsSpan(Start, Length);
}
