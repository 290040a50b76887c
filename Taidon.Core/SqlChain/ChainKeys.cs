namespace Taidon.Core.SqlChain;

/// <summary>Tells whether running a statement left the state as it was (PostgreSQL assigned it no transaction id).</summary>
/// <param name="before">The state the statement ran in.</param>
/// <param name="after">The key the state would have if the statement changed it.</param>
public delegate bool IsNoOp(ChainKey before, ChainKey after);

public static class ChainKeys
{
    /// <summary>
    /// The keys h_0..h_n of a chain of n statements. A statement known to have changed nothing keeps
    /// the key it found, so reading never invalidates the cache; an unknown statement is taken to change
    /// the state, which can cost a cache hit but never gives a wrong one. Session statements (SET,
    /// RESET) always advance the key, since later statements depend on them.
    /// </summary>
    public static IReadOnlyList<ChainKey> Compute(EngineIdentity engine, IReadOnlyList<SqlStatement> statements, IsNoOp? isNoOp = null)
    {
        var keys = new ChainKey[statements.Count + 1];
        keys[0] = engine.Root;
        Continue(keys, 0, statements, isNoOp);
        return keys;
    }

    /// <summary>Fills <c>keys[from + 1..]</c> from <c>keys[from]</c> (the keys up to it are known).</summary>
    internal static void Continue(ChainKey[] keys, int from, IReadOnlyList<SqlStatement> statements, IsNoOp? isNoOp)
    {
        var hasher = new ChainHasher();
        for (var i = from; i < statements.Count; i++)
        {
            var statement = statements[i];
            var next = hasher.Next(keys[i], statement.NormalizedUtf8, statement.CopyData);
            keys[i + 1] = isNoOp is not null && statement.Kind == StatementKind.Other && isNoOp(keys[i], next) ? keys[i] : next;
        }
    }
}
