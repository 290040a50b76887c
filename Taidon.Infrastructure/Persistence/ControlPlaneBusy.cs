using Npgsql;

namespace Taidon.Infrastructure.Persistence;

/// <summary>
/// Whether a failure is the control plane's database not answering in time (a connection that timed out,
/// a pool with no free connection, a server refusing more clients or a shutdown under way), as opposed
/// to a bug or a bad request: under a class's overload that is the installation being busy, which a
/// client may retry, not a server error. Entity Framework wraps such a failure (its retry strategy says
/// "likely due to a transient failure"); the chain of inner exceptions is read whole.
/// </summary>
public static class ControlPlaneBusy
{
    public static bool Is(Exception exception)
    {
        for (var current = (Exception?)exception; current is not null; current = current.InnerException)
        {
            if (current is NpgsqlException { IsTransient: true } or TimeoutException)
            {
                return true;
            }
        }

        return false;
    }
}
