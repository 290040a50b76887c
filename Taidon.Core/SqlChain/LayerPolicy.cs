namespace Taidon.Core.SqlChain;

/// <summary>
/// Where layers go: a layer is taken once the replay cost since the last one reaches
/// <see cref="RewindBudget"/> (so a later rewind to any statement never replays more than that), and
/// at the end of the tail when what was replayed since the last layer costs at least
/// <see cref="MinimumLayerCost"/> (cheaper to replay than to store). <see cref="RestoreCost"/> is what
/// restoring a layer costs, to choose between restoring and replaying on the instance.
/// </summary>
public sealed record LayerPolicy(TimeSpan RewindBudget, TimeSpan MinimumLayerCost, TimeSpan RestoreCost)
{
    public static LayerPolicy Default { get; } = new(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(150));

    /// <summary>
    /// The layer rule, one for the planner (with estimated costs) and the runner (with measured ones): a
    /// state deserves a layer once what was replayed since the last layer reaches the rewind budget, or at
    /// the end of the tail when it costs at least the minimum.
    /// </summary>
    public bool WorthALayer(TimeSpan sinceLastLayer, bool atEndOfTail) =>
        sinceLastLayer >= RewindBudget || (atEndOfTail && sinceLastLayer >= MinimumLayerCost);
}
