using Hangfire.AspNetCore;
using Hangfire.Logging;
using Microsoft.Extensions.Logging;

namespace Taidon.Infrastructure.Jobs;

/// <summary>
/// Hangfire's logs in the app's logging. Hangfire keeps one log provider for the whole process (a static),
/// so where several hosts share a process (the tests' apps, started and stopped in parallel) a host can
/// be handed another's provider after that one's logging was disposed: its loggers are then silent
/// instead of failing the host's start.
/// </summary>
internal sealed class HangfireLogProvider(ILoggerFactory loggers) : ILogProvider
{
    private readonly AspNetCoreLogProvider _logs = new(loggers);

    public ILog GetLogger(string name)
    {
        try
        {
            return _logs.GetLogger(name);
        }
        catch (ObjectDisposedException)
        {
            return Silent.Log;
        }
    }

    private sealed class Silent : ILog
    {
        public static readonly Silent Log = new();

        bool ILog.Log(Hangfire.Logging.LogLevel logLevel, Func<string> messageFunc, Exception exception) => false;
    }
}
