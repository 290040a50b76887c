namespace Taidon.Core.SqlChain;

/// <summary>
/// Where layers go. Before the script being run (init and seed, shared by a course): a layer once the
/// replay cost since the last one reaches <see cref="RewindBudget"/> (so a later rewind to any statement
/// never replays more than that), and at the end of that part when what was replayed since the last layer
/// costs at least <see cref="MinimumLayerCost"/> (cheaper to replay than to store). Inside the script
/// being run (what a student edits): a layer once the replay since the last one reaches
/// <see cref="ScriptRewindBudget"/>, after a single statement that costs <see cref="StepCost"/>, and at the statement the student last edited (the edit point) once
/// it reaches <see cref="EditPointCost"/>; captures other than the edit point's take at most
/// <see cref="CaptureShare"/> of the run's statements' time. <see cref="RestoreCost"/> is what restoring a
/// layer costs, to choose between restoring and replaying on the instance.
/// </summary>
public sealed record LayerPolicy(TimeSpan RewindBudget, TimeSpan MinimumLayerCost, TimeSpan RestoreCost)
{
    public static LayerPolicy Default { get; } = new(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(150));

    /// <summary>No layer anywhere (a baseline that measures replay without the cache).</summary>
    public static LayerPolicy None { get; } = new(TimeSpan.MaxValue, TimeSpan.MaxValue, TimeSpan.FromMilliseconds(150))
    {
        ScriptRewindBudget = TimeSpan.MaxValue,
        StepCost = TimeSpan.MaxValue,
        EditPointCost = TimeSpan.MaxValue,
    };

    /// <summary>
    /// Inside the script being run, the most an edit below a layer replays after restoring it. 50 ms, about
    /// what a capture costs on btrfs: a script's last build statement (an index, ANALYZE) often costs 50-100 ms,
    /// and the layer after it is where its exercise statements are edited. <see cref="CaptureShare"/> keeps
    /// the first run close to a plain one however many statements reach it.
    /// </summary>
    public TimeSpan ScriptRewindBudget { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Inside the script being run, a single statement that costs this much gets a layer after it: about what a
    /// rewind to a layer held by a standby server costs, so replaying it would cost more than restoring after it.
    /// Such statements are a load's steps (a bulk insert, an index, ANALYZE), and the statements after them are
    /// the ones a student edits: without it, the layer would land after the first cheap statement that brings the
    /// replay to <see cref="ScriptRewindBudget"/>, and every edit of that statement would replay the step.
    /// </summary>
    public TimeSpan StepCost { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>At the edit point, a layer pays once the replay since the last one costs this (an edit there is likely again).</summary>
    public TimeSpan EditPointCost { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>What a capture is taken to cost before one was measured in this process (a btrfs snapshot with its checkpoint: 25-40 ms).</summary>
    public TimeSpan CaptureCost { get; init; } = TimeSpan.FromMilliseconds(30);

    /// <summary>The most of a run's statement time that capturing layers inside its script may add (the first run stays close to a plain one).</summary>
    public double CaptureShare { get; init; } = 0.15;

    /// <summary>
    /// The layer rule, one for the planner (with estimated costs) and the runner (with measured ones): a
    /// state deserves a layer once what was replayed since the last layer reaches the rewind budget, or at
    /// the end of the tail when it costs at least the minimum; inside the script being run, once it reaches
    /// the script's budget or after a statement that alone costs <see cref="StepCost"/>, or at the edit point
    /// once it reaches the edit point's cost.
    /// </summary>
    public bool WorthALayer(TimeSpan sinceLastLayer, bool atEndOfTail, bool inScript = false, bool atEditPoint = false, TimeSpan statement = default) =>
        sinceLastLayer >= RewindBudget
        || (atEndOfTail && sinceLastLayer >= MinimumLayerCost)
        || (inScript && (sinceLastLayer >= ScriptRewindBudget || statement >= StepCost))
        || (atEditPoint && sinceLastLayer >= EditPointCost);

    /// <summary>
    /// Whether a layer inside the script may be captured now: the captures so far, and one more costing
    /// what the last did (in this run or an earlier one; <see cref="CaptureCost"/> before the first), stay
    /// within <see cref="CaptureShare"/> of the statements' time so far.
    /// </summary>
    public bool AffordsCapture(TimeSpan captured, TimeSpan lastCapture, TimeSpan statements) =>
        (captured + (lastCapture > TimeSpan.Zero ? lastCapture : CaptureCost)).Ticks <= CaptureShare * statements.Ticks;
}
