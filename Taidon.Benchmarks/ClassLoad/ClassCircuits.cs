using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Playwright;

namespace Taidon.Benchmarks.ClassLoad;

/// <summary>
/// Real browser circuits on the workspace, against any base address: each opens the page (it becomes a
/// guest at its first run), then runs the open script every think time. A page that loads again (its
/// circuit's replica left, and the replica it reconnects to does not know the circuit) is timed from the
/// start of its load to an interactive workspace (<see cref="ClassFigures.CircuitReturns"/>). Shared by the
/// class harness and the rolling-update test (Taidon.Tests compiles this file too).
/// </summary>
public sealed class ClassCircuits : IAsyncDisposable
{
    private readonly List<IBrowserContext> _contexts = [];
    private readonly List<IPage> _pages = [];
    private readonly ConcurrentDictionary<IPage, double> _origins = new();
    private readonly ConcurrentBag<Task> _returns = [];
    private readonly ClassFigures _figures;
    private readonly Stopwatch _clock;

    private ClassCircuits(ClassFigures figures, Stopwatch clock)
    {
        _figures = figures;
        _clock = clock;
    }

    /// <summary>
    /// Opens <paramref name="count"/> workspaces at <paramref name="start"/>, each in a browser context of its
    /// own (its own cookies), and waits until each is interactive. A course link (<c>/?git=</c>, a planned
    /// lesson's) makes each a guest with the course as its project as it opens, as a class's students do;
    /// the workspace's own address (<c>/</c>) shows the sample course, and the first run makes the guest.
    /// </summary>
    public static async Task<ClassCircuits> OpenAsync(IBrowser browser, Uri address, int count, ClassFigures figures, Stopwatch clock, string start = "/")
    {
        var circuits = new ClassCircuits(figures, clock);
        for (var i = 0; i < count; i++)
        {
            var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = address.ToString() });
            circuits._contexts.Add(context);
            context.SetDefaultTimeout(120_000);
            var page = await context.NewPageAsync();
            await page.GotoAsync(start);
            await WorkspaceAsync(page);
            circuits._origins[page] = await OriginAsync(page);
            var circuit = i;
            page.FrameNavigated += (_, frame) =>
            {
                if (frame == page.MainFrame)
                {
                    circuits._returns.Add(circuits.ComesBackAsync(page, circuit));
                }
            };
            circuits._pages.Add(page);
        }

        return circuits;
    }

    /// <summary>Each circuit runs the open script every think time until <paramref name="over"/>; then waits for the pages still loading again.</summary>
    public async Task RunAsync(ClassWorkload workload, CancellationToken over)
    {
        await Task.WhenAll(_pages.Select((page, i) => CircuitAsync(page, workload, over, new Random(workload.Seed * 1000 + i))));
        await Task.WhenAll(_returns);
    }

    private async Task CircuitAsync(IPage page, ClassWorkload workload, CancellationToken over, Random random)
    {
        while (!over.IsCancellationRequested)
        {
            double origin = 0;
            try
            {
                await WorkspaceAsync(page);
                origin = await OriginAsync(page);
                var button = await page.GetByTestId("run-script").ElementHandleAsync();
                var started = _clock.Elapsed;
                await button.ClickAsync();
                // The button leaves the page while the run lasts and a new one is there at its end.
                await page.WaitForFunctionAsync("button => !button.isConnected", button);
                await page.GetByTestId("run-script").WaitForAsync();
                if (await OriginAsync(page) != origin)
                {
                    _figures.BrowserRunCut();
                }
                else if (await page.GetByTestId("run-problem").CountAsync() > 0)
                {
                    _figures.Error("browser run: " + await page.GetByTestId("run-problem").InnerTextAsync());
                }
                else
                {
                    _figures.BrowserRuns.Add((_clock.Elapsed - started).TotalMilliseconds);
                }
            }
            catch (Exception e) when (e is PlaywrightException or TimeoutException)
            {
                // A page that loaded again under the run (its replica left) is not an error of the run.
                if (await LoadedAgainAsync(page, origin))
                {
                    _figures.BrowserRunCut();
                }
                else
                {
                    _figures.Error($"browser {e.GetType().Name} at {page.Url}: {e.Message.Split('\n')[0]}");
                }
            }

            if (!await ClassStudents.WaitAsync(workload.Think(random), over))
            {
                break;
            }
        }
    }

    /// <summary>After a navigation of the page: when it is a new document, how long from its start until its workspace is interactive.</summary>
    private async Task ComesBackAsync(IPage page, int circuit)
    {
        double origin = 0;
        try
        {
            origin = await OriginAsync(page);
            if (!_origins.TryGetValue(page, out var known) || known == origin)
            {
                return;
            }

            _origins[page] = origin;
            var left = DateTimeOffset.FromUnixTimeMilliseconds((long)origin) - (DateTimeOffset.UtcNow - _clock.Elapsed);
            await page.Locator("[data-testid=workspace][data-interactive=true]").WaitForAsync();
            var interactive = (_clock.Elapsed - left).TotalMilliseconds;
            await WorkspaceAsync(page);
            _figures.CircuitReturns.Add((circuit, left, _clock.Elapsed));
            var navigation = await page.EvaluateAsync<double[]>("() => { const n = performance.getEntriesByType('navigation')[0]; return n ? [n.responseStart, n.loadEventEnd] : [0, 0]; }");
            _figures.CircuitReturnSteps.Add((circuit, navigation[0], navigation[1], interactive, (_clock.Elapsed - left).TotalMilliseconds));
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            // Loaded again once more before it was back: that navigation is timed by its own call.
            if (origin != 0 && !await LoadedAgainAsync(page, origin))
            {
                _figures.Error($"browser back {e.GetType().Name} at {page.Url}: {e.Message.Split('\n')[0]}");
            }
        }
    }

    /// <summary>Whether the page is no longer the document that began to load at <paramref name="origin"/> (it is loading, or loaded again).</summary>
    private static async Task<bool> LoadedAgainAsync(IPage page, double origin) =>
        origin != 0 && await OriginOrZeroAsync(page) is var now && (now == 0 || now != origin);

    private static async Task<double> OriginOrZeroAsync(IPage page)
    {
        try
        {
            return await OriginAsync(page);
        }
        catch (PlaywrightException)
        {
            return 0;
        }
    }

    /// <summary>When the page's document began to load (ms since the epoch): it changes when the page loads again.</summary>
    private static Task<double> OriginAsync(IPage page) => page.EvaluateAsync<double>("() => performance.timeOrigin");

    /// <summary>Until the workspace is interactive and its editor is up.</summary>
    private static async Task WorkspaceAsync(IPage page)
    {
        await page.Locator("[data-testid=workspace][data-interactive=true]").WaitForAsync();
        await page.Locator("[data-testid=sql-editor][data-editor-ready=true]").WaitForAsync();
    }

    /// <summary>What each page shows now (its address, whether its workspace is interactive, Blazor's reconnection message): for a test that waited in vain.</summary>
    public async Task<IReadOnlyList<string>> DescribeAsync()
    {
        var lines = new List<string>();
        for (var i = 0; i < _pages.Count; i++)
        {
            try
            {
                var state = await _pages[i].EvaluateAsync<string>(
                    "() => `loaded at ${performance.timeOrigin}, interactive ${document.querySelector('[data-testid=workspace]')?.dataset.interactive}, "
                    + "reconnection: ${document.querySelector('#components-reconnect-modal')?.shadowRoot?.textContent?.trim() ?? document.querySelector('#components-reconnect-modal')?.textContent?.trim() ?? 'none'}`");
                lines.Add($"circuit {i} at {_pages[i].Url}: {state}");
            }
            catch (PlaywrightException e)
            {
                lines.Add($"circuit {i} at {_pages[i].Url}: {e.Message.Split('\n')[0]}");
            }
        }

        return lines;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.DisposeAsync();
        }
    }
}
