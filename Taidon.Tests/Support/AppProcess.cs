using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Taidon.Tests.Support;

/// <summary>
/// The app as a process of its own (Taidon.Web's build output, as <c>dotnet Taidon.Web.dll</c> runs it), on a
/// free loopback port: what a second replica is, with nothing shared with the test process but the
/// control plane and what its settings point at. Stopped with SIGTERM, as Kubernetes stops a pod.
/// </summary>
public sealed partial class AppProcess : IAsyncDisposable
{
    /// <summary>Taidon.Web's own build output, built with the tests in the same configuration.</summary>
    public static readonly string BuildOutput = Path.Combine(
        Repository.Root, "Taidon.Web", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, new DirectoryInfo(AppContext.BaseDirectory).Name);

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppProcess(Process process) => _process = process;

    public Uri Url { get; private set; } = null!;

    /// <summary>The app's process id (a replica's rows in the control plane carry it).</summary>
    public int ProcessId => _process.Id;

    /// <summary>What the process wrote so far (for a failure's message).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the app with these settings (names as in appsettings, e.g. <c>Taidon:Runtime:Kind</c>) and waits until it listens.</summary>
    public static async Task<AppProcess> StartAsync(string controlPlane, IReadOnlyDictionary<string, string?> settings)
    {
        var start = new ProcessStartInfo("dotnet", ["Taidon.Web.dll"])
        {
            WorkingDirectory = BuildOutput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                // Development: the build output serves its static assets from the source folders.
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["ConnectionStrings__ControlPlane"] = controlPlane,
                ["Taidon__Jobs__RunServer"] = "false",
                ["Taidon__Storage__CopyOnWrite"] = "off",
                ["Taidon__Instances__WarmPoolSize"] = "0",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
            },
        };
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var app = new AppProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Read(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (app._output)
            {
                app._output.AppendLine(line);
            }

            if (Listening().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        }

        app._process.OutputDataReceived += (_, e) => Read(e.Data);
        app._process.ErrorDataReceived += (_, e) => Read(e.Data);
        app._process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"The app exited before it listened:\n{app.Output}"));
        app._process.Start();
        app._process.BeginOutputReadLine();
        app._process.BeginErrorReadLine();
        try
        {
            app.Url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }

    /// <summary>Whether the process had to be killed: it had not stopped by itself within the grace period after SIGTERM.</summary>
    public bool Killed { get; private set; }

    /// <summary>Waits until the app says it is ready (<c>/readyz</c>, the chart's readiness probe), as Kubernetes does before it sends the pod traffic.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var ready = await client.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (waited.Elapsed > timeout || _process.HasExited)
            {
                throw new TimeoutException($"The app was not ready within {timeout.TotalSeconds:0} s:\n{Output}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>SIGTERM, then up to 60 s for the app's own stop (a pod's grace period), then a kill.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                Killed = true;
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();
}
