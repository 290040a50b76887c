namespace Taidon.Core.SqlChain;

/// <summary>A chain split and keyed: statement i leads from state <c>Keys[i]</c> to <c>Keys[i + 1]</c>.</summary>
public sealed record AnalyzedChain(IReadOnlyList<SqlStatement> Statements, IReadOnlyList<ChainKey> Keys, IReadOnlyList<ScriptProblem> Problems)
{
    public ChainKey Root => Keys[0];

    public bool IsValid => Problems.Count == 0;

    /// <summary>What <see cref="ChainAnalysis.Reanalyze"/> needs to split the scripts again after an edit.</summary>
    internal SplitTrace? Trace { get; init; }
}

public static class ChainAnalysis
{
    /// <summary>Splits the scripts as one session and computes h_0..h_n for the statements.</summary>
    public static AnalyzedChain Analyze(IReadOnlyList<SqlSource> sources, EngineIdentity engine, IsNoOp? isNoOp = null)
    {
        var script = SqlSplitter.Split(sources);
        return new AnalyzedChain(script.Statements, ChainKeys.Compute(engine, script.Statements, isNoOp), script.Problems) { Trace = script.Trace };
    }

    /// <summary>
    /// The analysis of <paramref name="sources"/> after an edit of one file, equal to <see cref="Analyze"/>,
    /// made from <paramref name="previous"/> (analyzed with the same engine and <paramref name="isNoOp"/>):
    /// only the statements around the edit are split again, and only the keys from the first changed
    /// statement on are computed again. Anything else than one file's text changed is analyzed afresh.
    /// </summary>
    public static AnalyzedChain Reanalyze(AnalyzedChain previous, IReadOnlyList<SqlSource> sources, EngineIdentity engine, IsNoOp? isNoOp = null)
    {
        var before = new SqlScript(previous.Statements, previous.Problems) { Trace = previous.Trace };
        if (previous.Keys[0] != engine.Root || IncrementalSplit.Split(before, sources) is not var (script, firstChanged))
        {
            return Analyze(sources, engine, isNoOp);
        }

        var keys = new ChainKey[script.Statements.Count + 1];
        for (var i = 0; i <= firstChanged; i++)
        {
            keys[i] = previous.Keys[i];
        }

        ChainKeys.Continue(keys, firstChanged, script.Statements, isNoOp);
        return new AnalyzedChain(script.Statements, keys, script.Problems) { Trace = script.Trace };
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
