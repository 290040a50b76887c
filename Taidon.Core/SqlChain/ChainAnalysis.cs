namespace Taidon.Core.SqlChain;

/// <summary>A chain split and keyed: statement i leads from state <c>Keys[i]</c> to <c>Keys[i + 1]</c>.</summary>
public sealed record AnalyzedChain(IReadOnlyList<SqlStatement> Statements, IReadOnlyList<ChainKey> Keys, IReadOnlyList<ScriptProblem> Problems)
{
    public ChainKey Root => Keys[0];

    public bool IsValid => Problems.Count == 0;
}

public static class ChainAnalysis
{
    /// <summary>Splits the scripts as one session and computes h_0..h_n for the statements.</summary>
    public static AnalyzedChain Analyze(IReadOnlyList<SqlSource> sources, EngineIdentity engine, IsNoOp? isNoOp = null)
    {
        var script = SqlSplitter.Split(sources);
        return new AnalyzedChain(script.Statements, ChainKeys.Compute(engine, script.Statements, isNoOp), script.Problems);
    }

    /// <summary>The same statements keyed again (with more statements known to change nothing), without splitting the scripts again.</summary>
    public static AnalyzedChain Rekey(AnalyzedChain chain, EngineIdentity engine, IsNoOp isNoOp) =>
        chain with { Keys = ChainKeys.Compute(engine, chain.Statements, isNoOp) };

    /// <summary>
    /// The order in which a set of files forms a chain: the chain folders' scripts in chain order
    /// (<see cref="ProjectChain.Order"/>), then any other files in the order given.
    /// </summary>
    public static IReadOnlyList<SqlSource> InChainOrder(IReadOnlyList<SqlSource> files)
    {
        var ordered = ProjectChain.Order(files.Select(f => f.Path));
        var byPath = files.GroupBy(f => f.Path.Replace('\\', '/').TrimStart('/'), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var inChain = ordered.Select(p => byPath[p] with { Path = p }).ToList();
        var chained = new HashSet<string>(ordered, StringComparer.Ordinal);
        return [.. inChain, .. files.Where(f => !chained.Contains(f.Path.Replace('\\', '/').TrimStart('/')))];
    }
}
