using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Taidon.Benchmarks.ClassLoad;

/// <summary>
/// A class on the app, over its HTTP API as the students' browsers would use it, plus a few real
/// browser circuits (Playwright, Debian's chromium): prints first-result and run latency (p50/p95/p99),
/// errors by kind, runs per second, the app's memory, PostgreSQL's processes and memory, and disk per
/// student. A plain C# driver rather than NBomber: the students are loops with think times that must
/// keep their own state (a token, an edit count, the first result), and the figures that matter are
/// read from /proc and the filesystem beside the latencies.
/// </summary>
public static class ClassLoadHarness
{
    public static async Task RunAsync(ClassWorkload workload, string repository, string configuration, string? dataDirectory, IReadOnlyDictionary<string, string> extraSettings, bool lesson = false)
    {
        // A school behind one address: the visitor limits are raised, nothing else changes.
        var settings = new Dictionary<string, string>
        {
            ["RateLimits:AnonymousApiPerMinute"] = "100000",
            ["RateLimits:ApiPerMinute"] = "100000",
            ["RateLimits:NewVisitorsPerHour"] = "100000",
            ["RateLimits:NewVisitorsPerHourTotal"] = "100000",
        };
        await using var planned = lesson ? await PlannedLesson.PrepareAsync() : null;
        foreach (var (key, value) in (planned?.Settings ?? new Dictionary<string, string>()).Concat(extraSettings))
        {
            settings[key] = value;
        }

        Console.WriteLine($"Class load: {workload.Students} students arriving within {workload.ArrivalWindow.TotalSeconds:0} s, editing every {workload.ThinkMin.TotalSeconds:0}-{workload.ThinkMax.TotalSeconds:0} s for {workload.Duration.TotalMinutes:0.#} min, {workload.Browsers} browser circuits; app: dotnet run -c {configuration}");
        await using var app = await AppUnderLoad.StartAsync(repository, configuration, dataDirectory, settings);
        Console.WriteLine($"App ready at {app.Address} (data: {app.DataDirectory}); memory {Mb(app.AppMemoryBytes())}");
        if (planned is not null)
        {
            await planned.PlanAsync(app, workload);
        }

        var diskBefore = app.FilesystemUsedBytes();
        var figures = new Figures();

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 10_000, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { BaseAddress = app.Address, Timeout = TimeSpan.FromMinutes(5) };

        await using var browsers = workload.Browsers > 0 ? await BrowserCircuits.OpenAsync(app, workload.Browsers, figures) : null;

        var clock = Stopwatch.StartNew();
        var end = workload.Duration;
        using var sampling = new CancellationTokenSource();
        var sampler = SampleAsync(app, figures, clock, sampling.Token);
        var random = new Random(workload.Seed);
        var students = Enumerable.Range(0, workload.Students)
            .Select(i => StudentAsync(http, workload, figures, clock, TimeSpan.FromTicks((long)(workload.ArrivalWindow.Ticks * (double)i / Math.Max(1, workload.Students))), end, new Random(random.Next())))
            .ToList();
        var circuits = browsers?.RunAsync(workload, clock, end) ?? Task.CompletedTask;
        await Task.WhenAll(students);
        await circuits;
        await sampling.CancelAsync();
        await sampler;

        var disk = app.FilesystemUsedBytes() - diskBefore;
        figures.Print(clock.Elapsed, workload, disk);
    }

    private static async Task StudentAsync(HttpClient http, ClassWorkload workload, Figures figures, Stopwatch clock, TimeSpan arrival, TimeSpan end, Random random)
    {
        await Task.Delay(arrival);
        var arrived = clock.Elapsed;
        string? token = null;
        while (token is null && clock.Elapsed < end)
        {
            var started = clock.Elapsed;
            try
            {
                using var response = await http.PostAsync("/api/v1/anonymous", null);
                figures.Guests.Add((clock.Elapsed - started).TotalMilliseconds);
                if (response.IsSuccessStatusCode)
                {
                    token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
                }
                else
                {
                    figures.Error("guest " + (int)response.StatusCode);
                    await Task.Delay(RetryAfter(response));
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                figures.Error("guest " + e.GetType().Name);
                await Task.Delay(1000);
            }
        }

        var first = true;
        for (var edit = 0; clock.Elapsed < end; edit++)
        {
            var body = new
            {
                files = new[]
                {
                    new { path = ClassWorkload.InitPath, content = ClassWorkload.Init },
                    new { path = ClassWorkload.ExercisePath, content = ClassWorkload.Exercise(edit) },
                },
                run = ClassWorkload.ExercisePath,
            };
            var started = clock.Elapsed;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runs") { Content = JsonContent.Create(body) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await http.SendAsync(request);
                var took = (clock.Elapsed - started).TotalMilliseconds;
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var run = await response.Content.ReadFromJsonAsync<JsonElement>();
                    if (run.GetProperty("succeeded").GetBoolean())
                    {
                        figures.Run(took, ClassWorkload.ChangesState(edit), steady: started >= workload.SteadyFrom);
                        if (first)
                        {
                            figures.FirstResults.Add((clock.Elapsed - arrived).TotalMilliseconds);
                            first = false;
                        }
                    }
                    else
                    {
                        figures.Error("run failed: " + FirstError(run));
                    }
                }
                else
                {
                    figures.Error("run " + (int)response.StatusCode);
                    if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
                    {
                        await Task.Delay(RetryAfter(response));
                        continue;
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                figures.Error("run " + e.GetType().Name);
            }

            var think = workload.ThinkMin + TimeSpan.FromTicks((long)(random.NextDouble() * (workload.ThinkMax - workload.ThinkMin).Ticks));
            await Task.Delay(think);
        }
    }

    private static string FirstError(JsonElement run)
    {
        foreach (var statement in run.GetProperty("statements").EnumerateArray())
        {
            if (statement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                return error.GetProperty("sqlState").GetString() ?? "?";
            }
        }

        return "?";
    }

    private static TimeSpan RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);

    private static async Task SampleAsync(AppUnderLoad app, Figures figures, Stopwatch clock, CancellationToken cancellationToken)
    {
        var next = TimeSpan.Zero;
        while (!cancellationToken.IsCancellationRequested)
        {
            var memory = app.AppMemoryBytes();
            var (count, pss) = AppUnderLoad.PostgresUse();
            figures.Sample(memory, count, pss);
            if (clock.Elapsed >= next)
            {
                Console.WriteLine($"  {clock.Elapsed.TotalSeconds,5:0} s  runs {figures.RunCount,6}  errors {figures.ErrorCount,5}  app {Mb(memory),8}  postgres {count,4} processes {Mb(pss),9}");
                next = clock.Elapsed + TimeSpan.FromSeconds(15);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Debian's chromium, headless.</summary>
    internal static BrowserTypeLaunchOptions Chromium => new()
    {
        ExecutablePath = Environment.GetEnvironmentVariable("TAIDON_CHROMIUM") ?? "/usr/bin/chromium",
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
    };

    internal static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0} MB");

    /// <summary>What the run measured, safe to add to from every student at once.</summary>
    internal sealed class Figures
    {
        private readonly ConcurrentDictionary<string, int> _errors = new();
        private readonly Lock _peaks = new();
        private long _peakApp;
        private int _peakPostgres;
        private long _peakPss;

        public ConcurrentBag<double> Runs { get; } = [];

        public ConcurrentBag<double> StateRuns { get; } = [];

        /// <summary>The runs that started once the class had arrived and its first runs were answered (<see cref="ClassWorkload.SteadyFrom"/>).</summary>
        public ConcurrentBag<double> SteadyRuns { get; } = [];

        public ConcurrentBag<double> FirstResults { get; } = [];

        public ConcurrentBag<double> Guests { get; } = [];

        public ConcurrentBag<double> BrowserRuns { get; } = [];

        public long CircuitBytes { get; set; }

        public int RunCount => Runs.Count;

        public int ErrorCount => _errors.Values.Sum();

        public void Run(double milliseconds, bool changesState, bool steady)
        {
            Runs.Add(milliseconds);
            if (steady)
            {
                SteadyRuns.Add(milliseconds);
            }

            if (changesState)
            {
                StateRuns.Add(milliseconds);
            }
        }

        public void Error(string kind) => _errors.AddOrUpdate(kind, 1, (_, n) => n + 1);

        public void Sample(long app, int postgres, long pss)
        {
            lock (_peaks)
            {
                _peakApp = Math.Max(_peakApp, app);
                _peakPostgres = Math.Max(_peakPostgres, postgres);
                _peakPss = Math.Max(_peakPss, pss);
            }
        }

        public void Print(TimeSpan elapsed, ClassWorkload workload, long diskBytes)
        {
            var students = workload.Students;
            Console.WriteLine();
            Console.WriteLine("| figure | p50 | p95 | p99 | count |");
            Console.WriteLine("| --- | --- | --- | --- | --- |");
            Row("first result (arrival to first run's answer)", FirstResults);
            Row("run (every edit, time in a queue included)", Runs);
            Row("run after an edit that changes state", StateRuns);
            Row(string.Create(CultureInfo.InvariantCulture, $"run started after {workload.SteadyFrom.TotalSeconds:0} s (the class arrived)"), SteadyRuns);
            Row("new guest (POST /api/v1/anonymous)", Guests);
            Row("browser circuit run (click to result)", BrowserRuns);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"runs per second: {Runs.Count / elapsed.TotalSeconds:0.00} ({Runs.Count} in {elapsed.TotalSeconds:0} s); students with a first result: {FirstResults.Count} of {students}"));
            if (elapsed > workload.SteadyFrom)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"runs per second after {workload.SteadyFrom.TotalSeconds:0} s: {SteadyRuns.Count / (elapsed - workload.SteadyFrom).TotalSeconds:0.00}"));
            }

            Console.WriteLine($"errors: {(_errors.IsEmpty ? "none" : string.Join(", ", _errors.OrderByDescending(e => e.Value).Select(e => $"{e.Key} x{e.Value}")))}");
            Console.WriteLine($"peak app memory {Mb(_peakApp)}; peak PostgreSQL processes {_peakPostgres}, their memory (PSS) {Mb(_peakPss)}");
            if (CircuitBytes > 0)
            {
                Console.WriteLine($"a browser circuit costs the app about {Mb(CircuitBytes)}");
            }

            Console.WriteLine($"disk: {Mb(diskBytes)} in all, {Mb(diskBytes / Math.Max(1, students))} per student");
        }

        private static void Row(string name, ConcurrentBag<double> values)
        {
            if (values.IsEmpty)
            {
                return;
            }

            var sorted = values.Order().ToArray();
            double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {At(0.50):0} ms | {At(0.95):0} ms | {At(0.99):0} ms | {sorted.Length} |"));
        }
    }

    /// <summary>Real browser circuits on the workspace: each opens the page (a guest), then runs the open script every think time.</summary>
    private sealed class BrowserCircuits : IAsyncDisposable
    {
        private readonly IPlaywright _playwright;
        private readonly IBrowser _browser;
        private readonly List<IPage> _pages;
        private readonly Figures _figures;

        private BrowserCircuits(IPlaywright playwright, IBrowser browser, List<IPage> pages, Figures figures) =>
            (_playwright, _browser, _pages, _figures) = (playwright, browser, pages, figures);

        public static async Task<BrowserCircuits> OpenAsync(AppUnderLoad app, int count, Figures figures)
        {
            var playwright = await Playwright.CreateAsync();
            var browser = await playwright.Chromium.LaunchAsync(Chromium);
            var before = app.AppMemoryBytes();
            var pages = new List<IPage>();
            for (var i = 0; i < count; i++)
            {
                var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = app.Address.ToString() });
                context.SetDefaultTimeout(120_000);
                var page = await context.NewPageAsync();
                await page.GotoAsync("/");
                await page.Locator("[data-testid=workspace][data-interactive=true]").WaitForAsync();
                pages.Add(page);
            }

            GC.Collect();
            await Task.Delay(2000);
            figures.CircuitBytes = Math.Max(0, app.AppMemoryBytes() - before) / count;
            return new BrowserCircuits(playwright, browser, pages, figures);
        }

        public Task RunAsync(ClassWorkload workload, Stopwatch clock, TimeSpan end) =>
            Task.WhenAll(_pages.Select((page, i) => CircuitAsync(page, workload, clock, end, new Random(workload.Seed * 1000 + i))));

        private async Task CircuitAsync(IPage page, ClassWorkload workload, Stopwatch clock, TimeSpan end, Random random)
        {
            while (clock.Elapsed < end)
            {
                var started = clock.Elapsed;
                try
                {
                    await page.GetByTestId("run-script").ClickAsync();
                    await page.GetByTestId("run-stop").WaitForAsync(new() { State = WaitForSelectorState.Detached });
                    if (await page.GetByTestId("run-problem").CountAsync() > 0)
                    {
                        _figures.Error("browser run: " + await page.GetByTestId("run-problem").InnerTextAsync());
                    }
                    else
                    {
                        _figures.BrowserRuns.Add((clock.Elapsed - started).TotalMilliseconds);
                    }
                }
                catch (Exception e) when (e is PlaywrightException or TimeoutException)
                {
                    _figures.Error("browser " + e.GetType().Name);
                }

                await Task.Delay(workload.ThinkMin + TimeSpan.FromTicks((long)(random.NextDouble() * (workload.ThinkMax - workload.ThinkMin).Ticks)));
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _browser.DisposeAsync();
            _playwright.Dispose();
        }
    }
}
