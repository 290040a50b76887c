using System.Collections.Concurrent;
using System.Globalization;

namespace Taidon.Benchmarks.ClassLoad;

/// <summary>
/// What a class measured, safe to add to from every student at once: latencies, answers that said busy
/// (retried after their Retry-After), errors by kind (anything else: a result or a save lost), and the
/// browser circuits' returns after their page had to load again. Shared by the class harness and the
/// rolling-update test (Taidon.Tests compiles this file too).
/// </summary>
public sealed class ClassFigures
{
    private readonly ConcurrentDictionary<string, int> _errors = new();
    private readonly ConcurrentDictionary<string, int> _busy = new();
    private readonly Lock _peaks = new();
    private long _peakApp;
    private int _peakPostgres;
    private long _peakPss;

    /// <summary>Every run answered with a success: when it started (on the class's clock) and how long it took.</summary>
    public ConcurrentBag<(TimeSpan Started, double Milliseconds)> Runs { get; } = [];

    public ConcurrentBag<double> StateRuns { get; } = [];

    /// <summary>The runs that started once the class had arrived and its first runs were answered (<see cref="ClassWorkload.SteadyFrom"/>).</summary>
    public ConcurrentBag<double> SteadyRuns { get; } = [];

    public ConcurrentBag<double> FirstResults { get; } = [];

    public ConcurrentBag<double> Guests { get; } = [];

    public ConcurrentBag<double> Saves { get; } = [];

    public ConcurrentBag<double> BrowserRuns { get; } = [];

    /// <summary>A browser circuit's page (by number) that loaded again (its replica left): when it began to load and when its workspace was interactive.</summary>
    public ConcurrentBag<(int Circuit, TimeSpan Left, TimeSpan Back)> CircuitReturns { get; } = [];

    /// <summary>How a page that loaded again got back, in ms from the start of its load: the server's first byte, the page loaded, the workspace interactive (the circuit started), its editor ready.</summary>
    public ConcurrentBag<(int Circuit, double FirstByte, double Loaded, double Interactive, double EditorReady)> CircuitReturnSteps { get; } = [];

    /// <summary>Browser runs whose page loaded again before their answer was shown (the run itself ends on the server).</summary>
    public int BrowserRunsCut => _browserRunsCut;

    private int _browserRunsCut;

    /// <summary>When set, the runs in progress during this window get a row of their own (a rolling update).</summary>
    public (TimeSpan From, TimeSpan To, string Name)? Window { get; set; }

    public long CircuitBytes { get; set; }

    /// <summary>Cores busy on average over the class (the machine's, the app's, the harness's browsers'); null when not measured.</summary>
    public (double Machine, double App, double Browsers)? Cores { get; set; }

    public int RunCount => Runs.Count;

    /// <summary>Runs sent by the students so far, answered or not.</summary>
    public int RunsSent => _runsSent;

    private int _runsSent;

    public int ErrorCount => _errors.Values.Sum();

    public int BusyCount => _busy.Values.Sum();

    public IReadOnlyDictionary<string, int> Errors => _errors;

    public void Run(TimeSpan started, double milliseconds, bool changesState, bool steady)
    {
        Runs.Add((started, milliseconds));
        if (steady)
        {
            SteadyRuns.Add(milliseconds);
        }

        if (changesState)
        {
            StateRuns.Add(milliseconds);
        }
    }

    public void RunSent() => Interlocked.Increment(ref _runsSent);

    public void Error(string kind) => _errors.AddOrUpdate(kind, 1, (_, n) => n + 1);

    public void Busy(string kind) => _busy.AddOrUpdate(kind, 1, (_, n) => n + 1);

    public void BrowserRunCut() => Interlocked.Increment(ref _browserRunsCut);

    /// <summary>The latencies of the successful runs in progress at some moment between <paramref name="from"/> and <paramref name="to"/>.</summary>
    public double[] RunsDuring(TimeSpan from, TimeSpan to) =>
        [.. Runs.Where(r => r.Started < to && r.Started + TimeSpan.FromMilliseconds(r.Milliseconds) > from).Select(r => r.Milliseconds).Order()];

    public void Sample(long app, int postgres, long pss)
    {
        lock (_peaks)
        {
            _peakApp = Math.Max(_peakApp, app);
            _peakPostgres = Math.Max(_peakPostgres, postgres);
            _peakPss = Math.Max(_peakPss, pss);
        }
    }

    /// <summary>The figures as a table and lines, to <paramref name="line"/>; the machine's (memory, disk) only when sampled.</summary>
    public void Print(Action<string> line, TimeSpan elapsed, ClassWorkload workload, long? diskBytes = null)
    {
        var students = workload.Students;
        line("");
        line("| figure | p50 | p95 | p99 | count |");
        line("| --- | --- | --- | --- | --- |");
        Row(line, "first result (arrival to first run's answer)", FirstResults);
        Row(line, "run (every edit, time in a queue included)", Runs.Select(r => r.Milliseconds));
        Row(line, "run after an edit that changes state", StateRuns);
        Row(line, string.Create(CultureInfo.InvariantCulture, $"run started after {workload.SteadyFrom.TotalSeconds:0} s (the class arrived)"), SteadyRuns);
        if (Window is { } window)
        {
            Row(line, window.Name, RunsDuring(window.From, window.To));
        }

        Row(line, "save of an edit (PUT the exercise)", Saves);
        Row(line, "new guest (POST /api/v1/anonymous)", Guests);
        Row(line, "browser circuit run (click to result)", BrowserRuns);
        Row(line, "browser circuit back (its page loading again to an interactive workspace)", CircuitReturns.Select(r => (r.Back - r.Left).TotalMilliseconds));
        line("");
        line(string.Create(CultureInfo.InvariantCulture, $"runs per second: {Runs.Count / elapsed.TotalSeconds:0.00} ({Runs.Count} in {elapsed.TotalSeconds:0} s); students with a first result: {FirstResults.Count} of {students}"));
        if (elapsed > workload.SteadyFrom)
        {
            line(string.Create(CultureInfo.InvariantCulture, $"runs per second after {workload.SteadyFrom.TotalSeconds:0} s: {SteadyRuns.Count / (elapsed - workload.SteadyFrom).TotalSeconds:0.00}"));
        }

        line($"busy answers (retried after Retry-After): {Kinds(_busy)}");
        line($"errors: {Kinds(_errors)}");
        if (BrowserRunsCut > 0)
        {
            line($"browser runs whose page loaded again before the answer: {BrowserRunsCut}");
        }

        if (_peakApp > 0)
        {
            line($"peak app memory {Mb(_peakApp)}; peak PostgreSQL processes {_peakPostgres}, their memory (PSS, estimated from a sample) {Mb(_peakPss)}");
        }

        if (Cores is var (machine, app, browsers))
        {
            line(string.Create(CultureInfo.InvariantCulture, $"cores busy on average: {machine:0.00} of {Environment.ProcessorCount} (the app {app:0.00}, the harness's browsers {browsers:0.00}: a class's browsers run on its students' machines)"));
        }

        if (CircuitBytes > 0)
        {
            line($"a browser circuit costs the app about {Mb(CircuitBytes)}");
        }

        if (diskBytes is { } disk)
        {
            line($"disk: {Mb(disk)} in all, {Mb(disk / Math.Max(1, students))} per student");
        }
    }

    private static string Kinds(ConcurrentDictionary<string, int> kinds) =>
        kinds.IsEmpty ? "none" : string.Join(", ", kinds.OrderByDescending(e => e.Value).Select(e => $"{e.Key} x{e.Value}"));

    public static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0} MB");

    /// <summary>The value at quantile <paramref name="q"/> of sorted values.</summary>
    public static double Quantile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static void Row(Action<string> line, string name, IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return;
        }

        line(string.Create(CultureInfo.InvariantCulture, $"| {name} | {Quantile(sorted, 0.50):0} ms | {Quantile(sorted, 0.95):0} ms | {Quantile(sorted, 0.99):0} ms | {sorted.Length} |"));
    }
}
