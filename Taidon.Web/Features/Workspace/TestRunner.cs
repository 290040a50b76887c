using Taidon.Core.Runs;

namespace Taidon.Web.Features.Workspace;

/// <summary>
/// Runs every test/ script on its own chain (init, seed, the test): a test passes when none of its
/// statements raises an error, the convention of ASSERT in a DO block.
/// </summary>
public sealed class TestRunner(IWorkspaceBackend backend, WorkspaceSession session)
{
    /// <summary>
    /// Fills <see cref="WorkspaceSession.Tests"/> with a result per test script, one after the other until
    /// all ran or the run is stopped; <paramref name="next"/> draws the progress before each.
    /// </summary>
    public async Task RunAsync(ActiveRun run, Func<Task> next)
    {
        session.Tests = [.. session.Scripts.Where(s => s.Path.StartsWith(WorkspaceSession.TestFolder, StringComparison.Ordinal)).Select(s => new TestResult(s.Path))];
        for (var i = 0; i < session.Tests.Count && !run.StopRequested; i++)
        {
            var test = session.Tests[i];
            run.Report(new RunProgress(i + 1, session.Tests.Count, RunPhase.Testing, test.Path));
            await next();
            var sources = session.Sources(test.Path);
            try
            {
                var (instance, _, result) = await backend.RunAsync(session.Owner, null, sources, new HeadSelection(FromFile: test.Path), null, run.Token);
                session.Instance = instance;
                var error = result.Outcomes.Select(o => o.Error).FirstOrDefault(e => e is not null);
                test.Passed = error is null;
                test.Message = error is null ? null : $"{error.File}:{error.Position?.Line}: {error.Message}";
            }
            catch (ArgumentException e)
            {
                test.Passed = false;
                test.Message = e.Message.Split(" (Parameter")[0];
            }
        }
    }
}
