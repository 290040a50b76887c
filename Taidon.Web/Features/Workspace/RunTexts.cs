using Microsoft.Extensions.Localization;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Web.Features.Localization;

namespace Taidon.Web.Features.Workspace;

/// <summary>How the workspace words a run's plan, progress and statements, in the student's language.</summary>
public static class RunTexts
{
    /// <summary>The plan chip: hot, or restored layer (short key), or continued, with the replay count.</summary>
    public static string Plan(IStringLocalizer<Strings> t, RunPlan plan)
    {
        var text = plan.Start switch
        {
            RunStart.Hot => t["hot"].Value,
            RunStart.ContinueOnInstance => t["continued on the instance"] + ", " + Replayed(t, plan.ReplayCount),
            _ when plan.From == 0 => t["restored the base state"] + ", " + Replayed(t, plan.ReplayCount),
            _ => t["restored layer {0}", plan.FromKey.Short] + ", " + Replayed(t, plan.ReplayCount),
        };
        return plan.HeadCached > 0 ? text + ", " + t["{0} of the script's statements cached", plan.HeadCached] : text;
    }

    private static string Replayed(IStringLocalizer<Strings> t, int count) =>
        count == 1 ? t["replayed 1 statement"] : t["replayed {0} statements", count];

    /// <summary>The progress bar's caption: the phase and how far it is.</summary>
    public static string Progress(IStringLocalizer<Strings> t, RunProgress? progress) => progress switch
    {
        null => t["Starting…"],
        { Phase: RunPhase.Restoring } p => t["Restoring layer {0}, then replaying {1} statements", p.Subject ?? "", p.Total],
        { Phase: RunPhase.Replaying } p => t["Replaying statement {0} of {1}", p.Current, p.Total],
        { Phase: RunPhase.TakingLayer } p => t["Taking layer {0} (statement {1} of {2})", p.Subject ?? "", p.Current, p.Total],
        { Phase: RunPhase.Testing } p => t["Testing {0} ({1} of {2})", p.Subject ?? "", p.Current, p.Total],
        { Phase: RunPhase.Benchmarking } p => t["Timing query {0} of {1}, repetition {2}", p.Current, p.Total, p.Subject ?? ""],
        var p => t["Running statement {0} of {1}", p.Current, p.Total],
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
