using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Taidon.Core.Common;

namespace Taidon.Infrastructure.Persistence;

/// <summary>Counts the commands the app sends to the control plane (<c>taidon.controlplane.commands</c>): what a run costs the shared database.</summary>
public sealed class ControlPlaneCommandCounter(TaidonTelemetry telemetry) : DbCommandInterceptor
{
    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        telemetry.ControlPlaneCommands.Add(1);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        telemetry.ControlPlaneCommands.Add(1);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        telemetry.ControlPlaneCommands.Add(1);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        telemetry.ControlPlaneCommands.Add(1);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        telemetry.ControlPlaneCommands.Add(1);
        return result;
    }

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        telemetry.ControlPlaneCommands.Add(1);
        return ValueTask.FromResult(result);
    }
}
