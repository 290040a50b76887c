using System.Text;

namespace Taidon.Core.SqlChain;

/// <summary>
/// One script file as its statements see it: its path, its text, and where its lines start (in
/// characters and in UTF-8 bytes), found on the first question, so a split that nobody asks for
/// places costs nothing and a statement holds two indexes instead of a whole <see cref="SourceSpan"/>.
/// </summary>
internal sealed class SourceText(SqlSource source)
{
    private Lines? _lines;

    public string Path => source.Path;

    public string Text => source.Text;

    public SqlSource Source => source;

    public SourceSpan Span(int start, int end)
    {
        var lines = _lines ??= new Lines(source.Text);
        return new(source.Path, lines.Position(start), lines.Position(end), start, end, lines.ByteOffset(start), lines.ByteOffset(end));
    }

    public ScriptProblem Problem(int index, string message, string? hint)
    {
        var lines = _lines ??= new Lines(source.Text);
        return new(source.Path, lines.Position(index), lines.ByteOffset(index), message, hint);
    }

    /// <summary>The character index of a position (the inverse of the positions given above).</summary>
    public int IndexOf(SourcePosition position) => (_lines ??= new Lines(source.Text)).Start(position.Line - 1) + position.Column - 1;

    /// <summary>Line starts, and the UTF-8 byte offset of each (built together, in one pass).</summary>
    private sealed class Lines
    {
        private readonly string _text;
        private readonly int[] _starts;
        private readonly long[] _bytes;

        public Lines(string text)
        {
            _text = text;
            var starts = new List<int>(text.Length / 32 + 1) { 0 };
            var bytes = new List<long>(starts.Capacity) { 0 };
            var i = 0;
            long offset = 0;
            while (text.IndexOf('\n', i) is var newline and >= 0)
            {
                offset += Encoding.UTF8.GetByteCount(text.AsSpan(i, newline + 1 - i));
                i = newline + 1;
                starts.Add(i);
                bytes.Add(offset);
            }

            _starts = [.. starts];
            _bytes = [.. bytes];
        }

        public int Start(int line) => _starts[line];

        public SourcePosition Position(int index)
        {
            var line = Line(index);
            return new SourcePosition(line + 1, index - _starts[line] + 1);
        }

        public long ByteOffset(int index)
        {
            var line = Line(index);
            return _bytes[line] + Encoding.UTF8.GetByteCount(_text.AsSpan(_starts[line], index - _starts[line]));
        }

        private int Line(int index)
        {
            var line = Array.BinarySearch(_starts, index);
            return line < 0 ? ~line - 1 : line;
        }
    }
}
