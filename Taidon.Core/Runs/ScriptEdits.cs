using System.Collections.Concurrent;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

/// <summary>
/// Where each student edits each script: the keys of the chain a script last ran with, per account and
/// script, so that the next run knows its first changed statement (the edit point, <see cref="ChainRun.EditPoint"/>).
/// A student who edits a statement and reruns, edits there again: the state before it is worth a layer.
/// Kept in memory and bounded: forgetting costs a layer that would have been taken one rerun later.
/// </summary>
public sealed class ScriptEdits
{
    /// <summary>The most scripts remembered; past it the memory starts again (a class holds a few thousand).</summary>
    public const int MaxScripts = 20_000;

    /// <summary>The most keys kept per script: edits further down are not learned.</summary>
    public const int MaxKeys = 4_096;

    private readonly ConcurrentDictionary<(string Account, string Script), ChainKey[]> _last = new();

    /// <summary>
    /// Remembers the chain's keys for the account's script and returns the first statement that differs
    /// from its last run (the state before it is <c>keys[k]</c>), or null when nothing earlier is known,
    /// nothing changed, or only statements were added at the end.
    /// </summary>
    public int? Learn(string account, string script, IReadOnlyList<ChainKey> keys)
    {
        if (_last.Count >= MaxScripts)
        {
            _last.Clear();
        }

        var kept = keys.Take(MaxKeys).ToArray();
        var previous = _last.GetValueOrDefault((account, script));
        _last[(account, script)] = kept;
        return previous is null ? null : FirstChange(previous, kept);
    }

    /// <summary>The first k whose state after it differs (keys[k + 1]), when both chains go on past it.</summary>
    internal static int? FirstChange(IReadOnlyList<ChainKey> before, IReadOnlyList<ChainKey> after)
    {
        var common = Math.Min(before.Count, after.Count);
        for (var k = 0; k + 1 < common; k++)
        {
            if (before[k + 1] != after[k + 1])
            {
                return k == 0 ? null : k;
            }
        }

        return null;
    }
}
