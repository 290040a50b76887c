namespace Taidon.Core.SqlChain;

/// <summary>A script file of a project: its path (relative, with '/') and its text.</summary>
public sealed record SqlSource(string Path, string Text);

/// <summary>The statements of one or more scripts, in order, and what was wrong with them.</summary>
public sealed record SqlScript(IReadOnlyList<SqlStatement> Statements, IReadOnlyList<ScriptProblem> Problems)
{
    public bool IsValid => Problems.Count == 0;

    /// <summary>What <see cref="IncrementalSplit"/> needs to split the scripts again after an edit.</summary>
    internal SplitTrace? Trace { get; init; }
}
