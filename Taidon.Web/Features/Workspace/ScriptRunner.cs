using Microsoft.Extensions.Localization;
using Microsoft.JSInterop;
using Taidon.Core.Instances;
using Taidon.Core.Quotas;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Web.Features.Gateway;
using Taidon.Web.Features.Localization;

namespace Taidon.Web.Features.Workspace;

/// <summary>
/// Runs the open script, the selection or the tests, one at a time, and shows what came of it: the
/// results, the error mark, the schema and the history; a run that cannot be made says why.
/// <c>render</c> draws the page (from any thread).
/// </summary>
public sealed class ScriptRunner(
    IWorkspaceBackend backend,
    IActiveRuns active,
    WorkspaceSession session,
    ScriptAutosave autosave,
    EditorDecorations decorations,
    IStringLocalizer<Strings> t,
    BusyControlPlane busy,
    ILogger logger,
    Func<Task> render)
{
    private long _lastProgressRender;

    public Task RunScriptAsync() => RunAsync(null);

    public async Task RunSelectionAsync(EditorSelection selection)
    {
        if (session.Current is null)
        {
            return;
        }

        // Which statements the selection touches is found by the run, on the chain it analyzes anyway.
        await RunAsync(HeadSelection.Selection(session.Current.Path, new(selection.StartLine, selection.StartColumn), new(selection.EndLine, selection.EndColumn)));
    }

    public async Task RunAsync(HeadSelection? selection)
    {
        if (session.Running is not null || session.Current is null)
        {
            return;
        }

        // Claimed before the first await: a second Ctrl+Enter or click meanwhile finds the run going. It
        // ends on the server once the backend has answered (a replica that stops waits for that, not for
        // the page's decorations).
        using var run = active.Begin(session.Owner, null, CancellationToken.None);
        session.Running = run;
        run.Changed += Reported;
        session.RunProblem = null;
        session.Progress = null;
        await render();
        try
        {
            await autosave.FlushAsync();
            if (session.Current is null)
            {
                return;
            }

            // A bench/ script run whole is timed: each query several times, with its plan.
            session.Bench = null;
            Instance instance;
            AnalyzedChain chain;
            RunResult result;
            if (selection is null && session.Current.Path.StartsWith(WorkspaceSession.BenchFolder, StringComparison.Ordinal))
            {
                var report = await backend.BenchmarkAsync(session.Owner, session.Sources(), session.Current.Path, run, run.Token);
                (instance, chain, result, session.Bench) = (report.Instance, report.Chain, report.Run, report);
            }
            else
            {
                (instance, chain, result) = await backend.RunAsync(session.Owner, null, session.Sources(), selection ?? new HeadSelection(FromFile: session.Current.Path), run, run.Token);
            }

            run.Dispose();
            session.Last = new LastRun(chain, result);
            session.Instance = instance;
            if (session.Schema is null || result.Outcomes.Any(o => o.ChangedState))
            {
                await decorations.SchemaChangedAsync(await backend.DescribeAsync(session.Owner, instance.Id));
            }

            // A failed run opens on its messages (the error); a benchmark on its timings; a good one on its last result.
            await decorations.ShowErrorAsync(result);
            await decorations.RefreshMarksAsync();
            session.History = await backend.HistoryAsync(session.Owner, WorkspaceSession.HistoryShown);
        }
        catch (NoStatementSelectedException)
        {
            session.RunProblem = t["There is no statement at the cursor: put it on a statement, or select the statements to run."];
        }
        catch (Exception e) when (e is ArgumentException or QuotaExceededException or InstallationAtCapacityException or InstanceNotFoundException)
        {
            session.RunProblem = e.Message.Split(" (Parameter")[0];
        }
        catch (OperationCanceledException) when (run.StopRequested)
        {
            session.RunProblem = t["The run was stopped before its first statement; nothing ran."];
        }
        catch (InstanceUnavailableException)
        {
            session.RunProblem = t["Your database could not be started just now. Try again in a minute; if it keeps failing, tell an admin."];
        }
        catch (JSDisconnectedException)
        {
            // The page left before the run began (its replica stops and closed the circuit's connection, the
            // tab closed) as the editor's text was read: nothing ran, and there is no page to tell.
            logger.LogInformation("A run in the workspace did not begin: its page disconnected");
        }
        catch (Exception e) when (busy.Is(e))
        {
            logger.LogWarning("A run in the workspace met a control plane that did not answer in time: {Error}", e.GetBaseException().Message);
            session.RunProblem = t["The server is busy: its database did not answer in time. Your script is saved; run it again in a few seconds."];
        }
        catch (Exception e)
        {
            logger.LogError(e, "A run in the workspace failed");
            session.RunProblem = t["The run failed on the server: {0}", e.Message];
        }
        finally
        {
            run.Changed -= Reported;
            session.Running = null;
        }
    }

    /// <summary>Runs every test/ script (see <see cref="TestRunner"/>), then shows the instance as the last test left it.</summary>
    public async Task RunTestsAsync()
    {
        if (session.Running is not null)
        {
            return;
        }

        // Claimed before the first await, as a run is.
        using var run = active.Begin(session.Owner, null, CancellationToken.None);
        session.Running = run;
        run.Changed += Reported;
        session.RunProblem = null;
        try
        {
            await autosave.FlushAsync();
            await new TestRunner(backend, session).RunAsync(run, render);
            run.Dispose();
            await decorations.SchemaChangedAsync(session.Instance is null ? null : await backend.DescribeAsync(session.Owner, session.Instance.Id));
            await decorations.RefreshMarksAsync();
            session.History = await backend.HistoryAsync(session.Owner, WorkspaceSession.HistoryShown);
        }
        catch (Exception e) when (e is QuotaExceededException or InstallationAtCapacityException or InstanceNotFoundException)
        {
            session.RunProblem = e.Message;
        }
        finally
        {
            run.Changed -= Reported;
            session.Running = null;
            session.Progress = null;
        }
    }

    private void Reported(RunProgress progress)
    {
        session.Progress = progress;

        // A long replay reports every statement: the page is drawn at most ten times a second.
        var now = Environment.TickCount64;
        if (now - _lastProgressRender >= 100)
        {
            _lastProgressRender = now;
            _ = render();
        }
    }
}
