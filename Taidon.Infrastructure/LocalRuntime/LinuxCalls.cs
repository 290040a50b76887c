using System.Runtime.InteropServices;

namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>
/// The few Linux system calls the embedded runtime makes itself rather than through a program: signals to
/// a postmaster (what <c>pg_ctl stop</c> sends) and btrfs's subvolume ioctls (what the <c>btrfs</c> tool
/// calls). Each was a process per restore before: a fork and an exec for a few microseconds of kernel work.
/// </summary>
internal static unsafe partial class LinuxCalls
{
    public const int SignalInterrupt = 2;
    public const int SignalQuit = 3;

    private const int NoSuchProcess = 3;
    private const int OpenReadOnlyCloseOnExec = 0x80000;

    /// <summary>Sends <paramref name="signal"/>; false when the process is gone already.</summary>
    public static bool Signal(int pid, int signal)
    {
        if (kill(pid, signal) == 0)
        {
            return true;
        }

        var error = Marshal.GetLastPInvokeError();
        return error == NoSuchProcess ? false : throw new IOException($"Could not signal process {pid}: {Marshal.GetPInvokeErrorMessage(error)} (errno {error}).");
    }

    /// <summary>An open file descriptor of a directory, for ioctls on it.</summary>
    public sealed class OpenDirectory : IDisposable
    {
        private OpenDirectory(int descriptor) => Descriptor = descriptor;

        public int Descriptor { get; }

        public static OpenDirectory Open(string path)
        {
            var descriptor = open(path, OpenReadOnlyCloseOnExec);
            return descriptor >= 0 ? new OpenDirectory(descriptor) : throw Failure($"open {path}");
        }

        /// <summary>ioctl with a pointer argument; the error number, or 0.</summary>
        public int Control(nuint request, void* argument) => ioctl(Descriptor, request, argument) == 0 ? 0 : Marshal.GetLastPInvokeError();

        public void Dispose() => close(Descriptor);
    }

    public static IOException Failure(string what, int? error = null)
    {
        var code = error ?? Marshal.GetLastPInvokeError();
        return new IOException($"{what} failed: {Marshal.GetPInvokeErrorMessage(code)} (errno {code}).");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int descriptor);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int descriptor, nuint request, void* argument);
}
