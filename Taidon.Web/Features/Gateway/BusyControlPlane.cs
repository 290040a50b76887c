namespace Taidon.Web.Features.Gateway;

/// <summary>
/// Tells a failure of the control plane's database that did not answer in time (the installation busy:
/// the same call may be made again) from any other; the wiring gives it the adapter's test
/// (<c>Taidon.Infrastructure.Persistence.ControlPlaneBusy</c>).
/// </summary>
public sealed class BusyControlPlane(Func<Exception, bool> isBusy)
{
    /// <summary>How long a client is asked to wait before trying again.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    public bool Is(Exception exception) => isBusy(exception);
}
