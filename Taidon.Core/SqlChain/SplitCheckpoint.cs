namespace Taidon.Core.SqlChain;

/// <summary>
/// Everything the splitter knows after a statement ended with a semicolon at <see cref="End"/>: the
/// string mode the lexer reads with, a change of it still to apply from the next line, COPY data still
/// to skip, and the session's settings. Two splits in the same checkpoint (moved by an edit) split the
/// same text after it the same way.
/// </summary>
internal readonly record struct SplitCheckpoint(int End, bool Strings, int ApplyStringsFrom, int CopySkipFrom, int CopySkipTo, byte Session)
{
    /// <summary>After a statement the end of the file cut short: no split resumes there.</summary>
    public static SplitCheckpoint None { get; } = new(-1, false, -1, -1, 0, 0);

    public bool CanResume => End >= 0;

    /// <summary>The last character index whose change could change the split before this checkpoint or the checkpoint itself.</summary>
    public int DependsThrough => Math.Max(End, Math.Max(ApplyStringsFrom, CopySkipFrom < 0 ? -1 : CopySkipTo));

    /// <summary>The same checkpoint in a text where everything from it on moved by <paramref name="shift"/> characters.</summary>
    public SplitCheckpoint Moved(int shift) => this with
    {
        End = End + shift,
        ApplyStringsFrom = ApplyStringsFrom < 0 ? -1 : ApplyStringsFrom + shift,
        CopySkipFrom = CopySkipFrom < 0 ? -1 : CopySkipFrom + shift,
        CopySkipTo = CopySkipFrom < 0 ? 0 : CopySkipTo + shift,
    };
}

/// <summary>What a split produces: statements, problems, a checkpoint per statement, and the store of normalized forms.</summary>
internal sealed class SplitOutput(int expectedBytes)
{
    public List<SqlStatement> Statements { get; } = new(expectedBytes / 128 + 4);

    public List<ScriptProblem> Problems { get; } = [];

    public List<SplitCheckpoint> Checkpoints { get; } = new(expectedBytes / 128 + 4);

    public NormalizedStore Normalized { get; } = new(expectedBytes);
}
