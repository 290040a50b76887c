using Microsoft.Extensions.Localization;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Web.Features.Localization;

namespace Taidon.Web.Features.Workspace;

/// <summary>How the workspace words a run's plan, progress and statements, in the student's language.</summary>
public static class RunTexts
{
    /// <summary>The plan chip: hot, or restored layer (short key), or continued, with the replay count.</summary>
    public static string Plan(IStringLocalizer<Strings> t, RunPlan plan) =>
        Plan(t, plan.Start, plan.From == 0, plan.FromKey.Short, plan.ReplayCount, plan.HeadCached);

    /// <summary>A plan from its parts (as the run history keeps them).</summary>
    public static string Plan(IStringLocalizer<Strings> t, RunStart start, bool fromBase, string fromKey, int replayed, int headCached)
    {
        var text = start switch
        {
            RunStart.Hot => t["hot"].Value,
            RunStart.ContinueOnInstance => t["continued on the instance"] + ", " + Replayed(t, replayed),
            _ when fromBase => t["restored the base state"] + ", " + Replayed(t, replayed),
            _ => t["restored layer {0}", fromKey] + ", " + Replayed(t, replayed),
        };
        return headCached > 0 ? text + ", " + t["{0} of the script's statements cached", headCached] : text;
    }

    private static string Replayed(IStringLocalizer<Strings> t, int count) =>
        count == 1 ? t["replayed 1 statement"] : t["replayed {0} statements", count];

    /// <summary>The progress bar's caption: the phase and how far it is.</summary>
    public static string Progress(IStringLocalizer<Strings> t, RunProgress? progress) => progress switch
    {
        null => t["Starting…"],
        { Phase: RunPhase.Queued } p => t["The server is busy: your run is queued (place {0}); it starts by itself.", p.Current],
        { Phase: RunPhase.Restoring } p => t["Restoring layer {0}, then replaying {1} statements", p.Subject ?? "", p.Total],
        { Phase: RunPhase.Replaying } p => t["Replaying statement {0} of {1}", p.Current, p.Total],
        { Phase: RunPhase.TakingLayer } p => t["Taking layer {0} (statement {1} of {2})", p.Subject ?? "", p.Current, p.Total],
        { Phase: RunPhase.Testing } p => t["Testing {0} ({1} of {2})", p.Subject ?? "", p.Current, p.Total],
        { Phase: RunPhase.Benchmarking } p => t["Timing query {0} of {1}, repetition {2}", p.Current, p.Total, p.Subject ?? ""],
        var p => t["Running statement {0} of {1}", p.Current, p.Total],
    };

    /// <summary>What a bound of the plan cut from a statement's answer, naming the limit and what to do.</summary>
    public static string Cut(IStringLocalizer<Strings> t, ResultCut cut) => cut.Kind switch
    {
        ResultCutKind.Rows => t["Only the first {0} rows of a result are kept (your plan's rows per result); add a LIMIT or a WHERE to see others.", cut.Limit],
        ResultCutKind.Bytes => t["The run's answer reached {0} KB (your plan's result size); later rows are not shown. Select fewer or narrower columns.", cut.Limit / 1024],
        ResultCutKind.Values => t["{0} values longer than {1} KB were cut to that length (your plan's value size); select a part with left() or substr().", cut.Count, cut.Limit / 1024],
        ResultCutKind.NoticesPerStatement => t["{0} notices past the first {1} of this statement were dropped (your plan's notices per statement).", cut.Count, cut.Limit],
        _ => t["{0} notices were dropped: the run keeps {1} notices at most (your plan's notices per run) within its result size.", cut.Count, cut.Limit],
    };

    public static string Status(IStringLocalizer<Strings> t, StatementStatus status) => status switch
    {
        StatementStatus.Cached => t["cached"],
        StatementStatus.Executed => t["executed"],
        StatementStatus.Error => t["raised an error"],
        StatementStatus.Skipped => t["skipped"],
        _ => status.ToString().ToLowerInvariant(),
    };

    public static string Milliseconds(TimeSpan time) =>
        time.TotalMilliseconds < 10 ? $"{time.TotalMilliseconds:0.0} ms" : $"{time.TotalMilliseconds:0} ms";
}
