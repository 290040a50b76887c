using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Taidon.Core.Common;

namespace Taidon.Infrastructure.Persistence;

/// <summary>
/// Counts the commands the app sends to the control plane (<c>taidon.controlplane.commands</c>): what a
/// run costs the shared database. Every command EF runs (queries, saves, raw SQL) is created once.
/// </summary>
public sealed class ControlPlaneCommandCounter(TaidonTelemetry telemetry) : DbCommandInterceptor
{
    public override DbCommand CommandCreated(CommandEndEventData eventData, DbCommand result)
    {
        telemetry.ControlPlaneCommands.Add(1);
        return result;
    }
}
