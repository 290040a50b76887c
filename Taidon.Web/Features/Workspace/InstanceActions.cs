using Taidon.Core.Runs;
using Microsoft.Extensions.Localization;
using Taidon.Core.Instances;
using Taidon.Web.Features.Localization;

namespace Taidon.Web.Features.Workspace;

/// <summary>What the instance panel does: restart the instance, reset it to the base state or to the state before the statement under the cursor.</summary>
public sealed class InstanceActions(IWorkspaceBackend backend, WorkspaceSession session, EditorDecorations decorations, IStringLocalizer<Strings> t)
{
    public Task RestartAsync() => ChangeAsync(id => backend.RestartAsync(session.Owner, id));

    public Task ResetToBaseAsync() => ChangeAsync(id => backend.ResetAsync(session.Owner, id));

    /// <summary>Brings the instance to the state just before the statement under the cursor (restoring and replaying what is needed).</summary>
    public async Task ResetBeforeCursorAsync()
    {
        var selection = await session.Editor!.GetSelectionAsync();
        var before = HeadSelection.Before(session.Current!.Path, new(selection.StartLine, selection.StartColumn));
        await ChangeAsync(async id => (await backend.RunAsync(session.Owner, id, session.Sources(), before, null, CancellationToken.None)).Instance);
    }

    /// <summary>
    /// Reads the instance's schema for the page and for completion. It waits for a run in progress (which
    /// holds the instance), so the workspace shows first and calls this after.
    /// </summary>
    public async Task ShowSchemaAsync()
    {
        if (session.Instance is { } instance)
        {
            await decorations.SchemaChangedAsync(await backend.DescribeAsync(session.Owner, instance.Id));
        }
    }

    /// <summary>Reads the account's instance and its schema again.</summary>
    public async Task RefreshAsync()
    {
        session.Instance = (await backend.InstancesAsync(session.Owner)).FirstOrDefault();
        session.Schema = session.Instance is null ? null : await backend.DescribeAsync(session.Owner, session.Instance.Id);
    }

    private async Task ChangeAsync(Func<Guid, Task<Instance>> change)
    {
        if (session.Instance is null || session.Running is not null)
        {
            return;
        }

        session.RunProblem = null;
        try
        {
            session.Instance = await change(session.Instance.Id);
            await decorations.SchemaChangedAsync(await backend.DescribeAsync(session.Owner, session.Instance.Id));
            session.Last = null;
            await decorations.RefreshMarksAsync();
        }
        catch (ArgumentException)
        {
            // No statement at the cursor, or a script that cannot be split: either way there is no "before" to reach.
            session.RunProblem = t["Put the cursor on a statement of the script to reset to the state before it."];
        }
        catch (InstanceNotFoundException e)
        {
            session.RunProblem = e.Message;
            await RefreshAsync();
        }
    }
}
