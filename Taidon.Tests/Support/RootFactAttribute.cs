using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Tests.Support;

/// <summary>A test that needs root (loop devices, mounts); skipped, with the reason, for other users.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!OsUser.CurrentIsRoot)
        {
            Skip = "Needs root to loop-mount a filesystem image; scripts/test.sh runs as root in CI.";
        }
    }
}
