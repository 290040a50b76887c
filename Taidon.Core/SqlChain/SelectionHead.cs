namespace Taidon.Core.SqlChain;

/// <summary>Which statements a selection in the editor names: the head of a "run selection".</summary>
public static class SelectionHead
{
    /// <summary>
    /// The statements of <paramref name="file"/> that the selection touches (start inclusive, end
    /// exclusive, over the whole chain); with an empty selection, the statement under the cursor, or
    /// the one just before it when the cursor stands after a statement's end. Null when the file has none there.
    /// </summary>
    public static (int Start, int End)? Find(IReadOnlyList<SqlStatement> statements, string file, SourcePosition from, SourcePosition to)
    {
        if (Compare(to, from) < 0)
        {
            (from, to) = (to, from);
        }

        int? first = null, last = null, before = null;
        for (var i = 0; i < statements.Count; i++)
        {
            var span = statements[i].Span;
            if (span.File != file)
            {
                continue;
            }

            var touches = from == to
                ? Compare(span.Start, from) <= 0 && Compare(from, span.End) <= 0
                : Compare(span.Start, to) < 0 && Compare(from, span.End) < 0;
            if (touches)
            {
                first ??= i;
                last = i;
            }
            else if (Compare(span.End, from) <= 0)
            {
                before = i;
            }
        }

        if (first is { } start)
        {
            return (start, last!.Value + 1);
        }

        return before is { } previous && from == to ? (previous, previous + 1) : null;
    }

    private static int Compare(SourcePosition a, SourcePosition b) =>
        a.Line != b.Line ? a.Line.CompareTo(b.Line) : a.Column.CompareTo(b.Column);
}
