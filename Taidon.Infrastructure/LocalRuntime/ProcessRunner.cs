using System.Diagnostics;

namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>Runs a program to completion, optionally as another account (through setpriv), and captures its output.</summary>
public static class ProcessRunner
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
}
