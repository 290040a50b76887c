using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>
/// Runs a program to completion, optionally as another account (through setpriv), and captures its output;
/// or starts a server that outlives the call (<see cref="StartServerAsync"/>).
/// </summary>
public static partial class ProcessRunner
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Output => (StandardError + "\n" + StandardOutput).Trim();
    }

    /// <summary>
    /// Runs a program and waits for it, blocking. The wait happens on the thread pool: a caller on a
    /// single-threaded synchronization context (a Blazor circuit) would otherwise block the very thread
    /// the program's output is read on, and never return.
    /// </summary>
    public static Result Run(string program, IReadOnlyList<string> arguments, OsUser? runAs, TimeSpan timeout) =>
        Task.Run(() => RunAsync(program, arguments, runAs, timeout, CancellationToken.None)).GetAwaiter().GetResult();

    /// <summary>
    /// How a program is started: as <paramref name="runAs"/> when given (through setpriv, with its own HOME
    /// and user name), from "/", in the C locale, with every stream redirected.
    /// </summary>
    public static ProcessStartInfo StartInfo(string program, IReadOnlyList<string> arguments, OsUser? runAs, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // The working directory must be readable by the account the program runs as.
            WorkingDirectory = "/",
        };

        if (runAs is null)
        {
            info.FileName = program;
        }
        else
        {
            info.FileName = "setpriv";
            foreach (var a in new[] { $"--reuid={runAs.Uid}", $"--regid={runAs.Gid}", "--clear-groups", "--" })
            {
                info.ArgumentList.Add(a);
            }

            info.ArgumentList.Add(program);
            info.Environment["HOME"] = "/";
            info.Environment["USER"] = runAs.Name;
            info.Environment["LOGNAME"] = runAs.Name;
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["LC_ALL"] = "C";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return info;
    }

    public static async Task<Result> RunAsync(
        string program,
        IReadOnlyList<string> arguments,
        OsUser? runAs,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = StartInfo(program, arguments, runAs, environment);
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new Result(127, "", $"{info.FileName}: {e.Message}");
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            return new Result(124, "", $"{Path.GetFileName(program)} did not finish within {timeout.TotalSeconds:0} s and was stopped.");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Starts a server program that runs on after the call: its output appended to <paramref name="logFile"/>,
    /// its input empty, as <paramref name="runAs"/> (through setpriv, without supplementary groups), at the
    /// scheduling <paramref name="niceness"/>. Two programs precede it (a shell for the redirections, and setpriv),
    /// not the four of <c>pg_ctl start</c> (which also runs the server once more to read its version): at a
    /// class's restores that was a tenth of the machine in the dynamic linker. The niceness is the
    /// starting thread's own (Linux keeps one per thread and a child inherits its parent thread's), so the
    /// server and everything it forks are born with it, and no <c>nice</c> program runs. The process is
    /// waited for when it ends (no zombie is left).
    /// </summary>
    public static async Task<Process> StartServerAsync(string program, IReadOnlyList<string> arguments, OsUser? runAs, string logFile, int niceness)
    {
        var server = StartInfo(program, arguments, runAs);
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var argument in new[] { "-c", "log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1", "sh", logFile, server.FileName })
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var argument in server.ArgumentList)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in server.Environment)
        {
            info.Environment[key] = value;
        }

        var process = niceness == 0 ? Process.Start(info)! : await NicedStarter.For(niceness).StartAsync(info);
        _ = ReapAsync(process);
        return process;
    }

    private static async Task ReapAsync(Process process)
    {
        using (process)
        {
            await process.WaitForExitAsync();
        }
    }

    /// <summary>A thread of its own at a niceness, on which processes are started (they inherit it).</summary>
    private sealed partial class NicedStarter
    {
        private static readonly ConcurrentDictionary<int, NicedStarter> Starters = new();

        private readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Started)> _queue = [];

        private NicedStarter(int niceness)
        {
            var thread = new Thread(() => Serve(niceness)) { IsBackground = true, Name = $"Taidon nice {niceness} starter" };
            thread.Start();
        }

        public static NicedStarter For(int niceness) => Starters.GetOrAdd(niceness, n => new NicedStarter(n));

        public Task<Process> StartAsync(ProcessStartInfo info)
        {
            var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
            _queue.Add((info, started));
            return started.Task;
        }

        private void Serve(int niceness)
        {
            // PRIO_PROCESS with the thread's own id: Linux sets the niceness of this thread only.
            var error = setpriority(0, gettid(), niceness) == 0 ? null : $"setpriority failed (errno {Marshal.GetLastPInvokeError()})";
            foreach (var (info, started) in _queue.GetConsumingEnumerable())
            {
                try
                {
                    started.SetResult(error is null ? Process.Start(info)! : throw new IOException($"Could not start {info.FileName} at niceness {niceness}: {error}."));
                }
                catch (Exception e)
                {
                    started.SetException(e);
                }
            }
        }

        [LibraryImport("libc", SetLastError = true)]
        private static partial int setpriority(int which, int who, int priority);

        [LibraryImport("libc")]
        private static partial int gettid();
    }
}
