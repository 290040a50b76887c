using System.Diagnostics;
using System.Globalization;
using System.Text;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Infrastructure.Sql;

namespace Taidon.Benchmarks;

/// <summary>
/// One script, no init or seed (<c>-- --reruns</c>): a student's script that builds and loads tables, then
/// exercise statements. For each shape, in one process: a plain run (the same statements through Npgsql on
/// a fresh instance), the first run through Taidon on a fresh instance (ratio to the plain run), then, for
/// each exercise statement, an edit of it and a rerun as the workspace does it (ratio to the first run).
/// </summary>
public static class ScriptRerunBenchmarks
{
    private static readonly InstanceLimits Limits = new(StatementTimeout: TimeSpan.FromSeconds(120), StorageMegabytes: 2048);

    /// <summary>A script: what builds and loads (never edited here), then the exercise statements (each edited in turn: a number in place of its <c>{0}</c>).</summary>
    public sealed record Shape(string Name, string Load, IReadOnlyList<string> Exercise);

    public static IReadOnlyList<Shape> Shapes { get; } =
    [
        new("tables, index, ANALYZE (the issue's script)",
            """
            CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, city text NOT NULL);
            INSERT INTO customers SELECT g, 'customer ' || g, 'city ' || (g % 100) FROM generate_series(1, 50000) g;
            CREATE TABLE products (id int PRIMARY KEY, title text NOT NULL, price numeric(10, 2) NOT NULL);
            INSERT INTO products SELECT g, 'product ' || g, (g % 500) + 0.99 FROM generate_series(1, 10000) g;
            CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, product_id int NOT NULL REFERENCES products, quantity int NOT NULL, ordered_at date NOT NULL);
            INSERT INTO orders SELECT g, 1 + g % 50000, 1 + g % 10000, 1 + g % 7, date '2024-01-01' + g % 365 FROM generate_series(1, 190000) g;
            CREATE INDEX orders_customer ON orders (customer_id);
            ANALYZE;
            """,
            [
                "CREATE VIEW city_orders AS SELECT c.city, count(*) AS orders FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.id < 200 + {0} GROUP BY c.city;",
                "SELECT * FROM city_orders ORDER BY orders DESC LIMIT 5 + {0};",
                "UPDATE products SET price = price * 1.1 WHERE id < 100 + {0};",
                "SELECT o.id, p.title, o.quantity * p.price AS total FROM orders o JOIN products p ON p.id = o.product_id WHERE o.customer_id = 42 + {0} ORDER BY o.id;",
            ]),
        new("a load in one transaction, then DML",
            """
            BEGIN;
            CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12, 2) NOT NULL);
            INSERT INTO accounts SELECT g, 'owner ' || g, g % 1000 FROM generate_series(1, 100000) g;
            CREATE TABLE transfers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, source int NOT NULL, target int NOT NULL, amount numeric(12, 2) NOT NULL);
            INSERT INTO transfers (source, target, amount) SELECT 1 + g % 100000, 1 + (g * 7) % 100000, g % 50 FROM generate_series(1, 150000) g;
            COMMIT;
            CREATE INDEX transfers_source ON transfers (source);
            """,
            [
                "UPDATE accounts SET balance = balance - 10 - {0} WHERE id = 17;",
                "UPDATE accounts SET balance = balance + 10 + {0} WHERE id = 18;",
                "SELECT id, balance, {0} AS edit FROM accounts WHERE id IN (17, 18) ORDER BY id;",
                "SELECT count(*), sum(amount) FROM transfers WHERE source = 17 + {0};",
            ]),
        new("rows made in a PL/pgSQL loop",
            """
            CREATE TABLE readings (sensor int NOT NULL, taken_at timestamp NOT NULL, value double precision NOT NULL);
            DO $$
            BEGIN
              FOR s IN 1..40 LOOP
                INSERT INTO readings SELECT s, timestamp '2024-01-01' + g * interval '1 minute', sin(g / 100.0) * s FROM generate_series(1, 5000) g;
              END LOOP;
            END
            $$;
            CREATE INDEX readings_sensor ON readings (sensor, taken_at);
            """,
            [
                "CREATE TABLE hourly AS SELECT sensor, date_trunc('hour', taken_at) AS hour, avg(value) AS mean FROM readings WHERE sensor <= 3 + {0} GROUP BY 1, 2;",
                "SELECT sensor, max(mean), {0} AS edit FROM hourly GROUP BY sensor ORDER BY sensor;",
                "DELETE FROM hourly WHERE mean < 0 - {0};",
                "SELECT count(*) + {0} FROM hourly;",
            ]),
        new("data pasted as COPY FROM STDIN",
            CopyLoad(40_000),
            [
                "CREATE INDEX people_city ON people (city) WHERE id > {0};",
                "SELECT city, count(*) + {0} FROM people WHERE city IN ('Oslo', 'Lima') GROUP BY city ORDER BY city;",
                "UPDATE people SET city = 'Lima' WHERE id % 1000 = {0};",
                "SELECT count(*) + {0} FROM people WHERE city = 'Lima';",
            ]),
        // The issue's size (a load of a second or more before the exercise): what a rerun's 0.05 is meant for.
        new("a load in one transaction with foreign keys, then DML (the issue's size)",
            """
            BEGIN;
            CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12, 2) NOT NULL CHECK (balance >= 0));
            INSERT INTO accounts SELECT g, 'owner ' || g, g % 1000 FROM generate_series(1, 100000) g;
            CREATE TABLE transfers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, source int NOT NULL REFERENCES accounts, target int NOT NULL REFERENCES accounts, amount numeric(12, 2) NOT NULL);
            INSERT INTO transfers (source, target, amount) SELECT 1 + g % 100000, 1 + (g * 7) % 100000, g % 50 FROM generate_series(1, 300000) g;
            COMMIT;
            CREATE INDEX transfers_source ON transfers (source);
            CREATE INDEX transfers_target ON transfers (target);
            ANALYZE;
            """,
            [
                "UPDATE accounts SET balance = balance - 10 - {0} WHERE id = 17;",
                "UPDATE accounts SET balance = balance + 10 + {0} WHERE id = 18;",
                "SELECT id, balance, {0} AS edit FROM accounts WHERE id IN (17, 18) ORDER BY id;",
                "SELECT count(*), sum(amount) FROM transfers WHERE source = 17 + {0};",
            ]),
        new("rows inserted one at a time in a PL/pgSQL loop (the issue's size)",
            """
            CREATE TABLE readings (sensor int NOT NULL, taken_at timestamp NOT NULL, value double precision NOT NULL);
            DO $$
            BEGIN
              FOR s IN 1..40 LOOP
                FOR g IN 1..12500 LOOP
                  INSERT INTO readings VALUES (s, timestamp '2024-01-01' + g * interval '1 minute', sin(g / 100.0) * s);
                END LOOP;
              END LOOP;
            END
            $$;
            CREATE INDEX readings_sensor ON readings (sensor, taken_at);
            ANALYZE readings;
            """,
            [
                "CREATE TABLE hourly AS SELECT sensor, date_trunc('hour', taken_at) AS hour, avg(value) AS mean FROM readings WHERE sensor <= 3 + {0} GROUP BY 1, 2;",
                "SELECT sensor, max(mean), {0} AS edit FROM hourly GROUP BY sensor ORDER BY sensor;",
                "DELETE FROM hourly WHERE mean < 0 - {0};",
                "SELECT count(*) + {0} FROM hourly;",
            ]),
        new("rows through a trigger that keeps running totals (the issue's size)",
            """
            CREATE TABLE sales (id int PRIMARY KEY, region int NOT NULL, amount numeric(10, 2) NOT NULL);
            CREATE TABLE region_totals (region int PRIMARY KEY, total numeric(14, 2) NOT NULL DEFAULT 0);
            INSERT INTO region_totals SELECT g, 0 FROM generate_series(0, 49) g;
            CREATE FUNCTION add_sale() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              UPDATE region_totals SET total = total + NEW.amount WHERE region = NEW.region;
              RETURN NEW;
            END
            $$;
            CREATE TRIGGER sales_total AFTER INSERT ON sales FOR EACH ROW EXECUTE FUNCTION add_sale();
            INSERT INTO sales SELECT g, g % 50, (g % 997) / 10.0 FROM generate_series(1, 60000) g;
            CREATE INDEX sales_region ON sales (region);
            ANALYZE;
            """,
            [
                "INSERT INTO sales VALUES (1000000 + {0}, 7, 12.50);",
                "SELECT region, total FROM region_totals WHERE region IN (7, 8 + {0}) ORDER BY region;",
                "UPDATE region_totals SET total = 0 WHERE region = 49 - {0};",
                "SELECT count(*) + {0} FROM sales WHERE region = 7;",
            ]),
        new("a materialized view over a join, then window functions (the issue's size)",
            """
            CREATE TABLE clients (id int PRIMARY KEY, region text NOT NULL, since date NOT NULL);
            INSERT INTO clients SELECT g, (ARRAY['north', 'south', 'east', 'west'])[1 + g % 4], date '2020-01-01' + g % 1000 FROM generate_series(1, 20000) g;
            CREATE TABLE purchases (id int PRIMARY KEY, client int NOT NULL REFERENCES clients, placed date NOT NULL, total numeric(10, 2) NOT NULL);
            INSERT INTO purchases SELECT g, 1 + g % 20000, date '2023-01-01' + g % 365, (g % 500) / 3.0 FROM generate_series(1, 200000) g;
            CREATE MATERIALIZED VIEW monthly AS SELECT c.region, date_trunc('month', p.placed) AS month, sum(p.total) AS revenue, count(*) AS purchases FROM purchases p JOIN clients c ON c.id = p.client GROUP BY 1, 2;
            CREATE INDEX purchases_client ON purchases (client, placed);
            ANALYZE;
            """,
            [
                "SELECT region, month, revenue, rank() OVER (PARTITION BY month ORDER BY revenue DESC) + {0} AS place FROM monthly ORDER BY month, place;",
                "UPDATE purchases SET total = total * 1.1 WHERE client = 42 + {0};",
                "SELECT placed, total, sum(total) OVER (ORDER BY placed, id) AS running FROM purchases WHERE client = 42 + {0} ORDER BY placed, id;",
                "DELETE FROM purchases WHERE client = 7 + {0} AND placed < date '2023-03-01';",
            ]),
    ];

    /// <param name="iterations">Edits of each exercise statement.</param>
    /// <param name="directory">Where the instances and layers go (its filesystem picks the layer driver).</param>
    /// <param name="smoke">One shape, one edit of each statement: CI's check that the harness works.</param>
    /// <param name="shapeNamed">Only the shapes whose name contains this (all when null).</param>
    /// <param name="copyOnWrite">Prepare the folder as the app does with this <c>Taidon:Storage:CopyOnWrite</c> (<c>auto</c>, <c>off</c>); null: use it as it is.</param>
    /// <param name="firstRuns">Plain and first runs measured in turns (their medians are compared).</param>
    public static async Task RunAsync(int iterations, string? directory, bool smoke, string? shapeNamed = null, string? copyOnWrite = null, int firstRuns = 3)
    {
        await using var instances = new BenchmarkInstances(directory, copyOnWrite);
        Console.WriteLine($"layer driver: {instances.Storage}; medians of {firstRuns} plain and first runs in turns; {iterations} edit(s) of each exercise statement, the worse counted");
        Console.WriteLine("| shape | plain run | first run (ratio to plain) | rerun after an edit, worst statement (ratio to first run) | layer bytes per student |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var shape in smoke ? Shapes.Take(1) : Shapes.Where(s => shapeNamed is null || s.Name.Contains(shapeNamed, StringComparison.OrdinalIgnoreCase)))
        {
            await MeasureAsync(shape, instances, smoke ? 1 : iterations, smoke ? 1 : firstRuns);
        }
    }

    private static async Task MeasureAsync(Shape shape, BenchmarkInstances instances, int iterations, int firstRuns)
    {
        var (engine, runtime) = (instances.Engine, instances.Runtime);
        var original = Analyze(engine, shape, edit: null);

        // The plain run (the same statements through Npgsql, on a fresh instance) and the first run through Taidon (on a
        // fresh instance, with only the base state cached), in turns, firstRuns times: on a shared machine one of each
        // moves their ratio by 10 % or more. Between turns the first run's layers go, and with them what the runner
        // learned (recorded outcomes, the last capture's cost, the edit point): each first run is a first run.
        var plains = new List<TimeSpan>();
        var firsts = new List<TimeSpan>();
        RunExecutor executor;
        ScriptEdits edits;
        Guid student;
        RunResult first;
        while (true)
        {
            var plainInstance = await instances.CreateAsync(Limits);
            var connection = await runtime.StartAsync(plainInstance, Limits, CancellationToken.None);
            var started = Stopwatch.GetTimestamp();
            await RunBenchmarks.DirectAsync(connection, original.Statements);
            plains.Add(Stopwatch.GetElapsedTime(started));
            await runtime.DeleteAsync(plainInstance, CancellationToken.None);

            executor = new RunExecutor(runtime, new NpgsqlSqlSessionFactory(), TimeProvider.System, outcomeStore: new RunBenchmarks.OutcomesInMemory());
            edits = new ScriptEdits();
            student = await instances.CreateAsync(Limits);
            first = await RunAsync(executor, edits, student, original, engine.Root);
            firsts.Add(first.Duration);
            Console.Error.WriteLine($"  first run: {first.Duration.TotalMilliseconds:F0} ms (plain {plains[^1].TotalMilliseconds:F0} ms), {first.Plan.Describe()}, statements {string.Join(", ", first.Outcomes.Select(o => $"{o.Duration.TotalMilliseconds:F0}"))} ms, "
                + $"layers taken: {first.LayersTaken.Count} ({string.Join(", ", first.LayersTaken.Select(l => $"after statement {IndexOf(original.Keys, l.Layer.Key)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "? (a state key after a read-only statement)"} in {l.BuildTime.TotalMilliseconds:F0} ms"))})");
            if (firsts.Count >= firstRuns)
            {
                break;
            }

            await runtime.DeleteAsync(student, CancellationToken.None);
            foreach (var layer in first.LayersTaken)
            {
                await instances.Layers.RemoveAsync(layer.Layer.Key, CancellationToken.None);
            }
        }

        var plain = RunBenchmarks.Median(plains);
        var firstRun = RunBenchmarks.Median(firsts);
        var layerBytes = first.LayersTaken.Sum(l => l.Layer.SizeBytes);
        var state = first.FinalState;

        var worst = TimeSpan.Zero;
        var worstAt = "";
        for (var statement = 0; statement < shape.Exercise.Count; statement++)
        {
            var times = new List<TimeSpan>();
            for (var i = 1; i <= iterations; i++)
            {
                // The student reads the result and edits the script: the runtime's standby copy is made meanwhile.
                await Task.Delay(TimeSpan.FromSeconds(1.5));
                var phases = new PhaseTimes();
                var rerun = await RunAsync(executor, edits, student, Analyze(engine, shape, (statement, i)), state, phases);
                phases.End();
                Check(rerun);
                times.Add(rerun.Duration);
                layerBytes += rerun.LayersTaken.Sum(l => l.Layer.SizeBytes);
                state = rerun.FinalState;
                Console.Error.WriteLine($"  edit of exercise statement {statement + 1}: {rerun.Duration.TotalMilliseconds:F0} ms, {rerun.Plan.Describe()}, layers taken: {rerun.LayersTaken.Count}; {phases.Describe()}");
            }

            var median = RunBenchmarks.Median(times);
            if (median > worst)
            {
                (worst, worstAt) = (median, $"statement {statement + 1}");
            }
        }

        Console.WriteLine($"| {shape.Name} | {plain.TotalMilliseconds:F0} ms | {firstRun.TotalMilliseconds:F0} ms ({firstRun / plain:F2}) | {worst.TotalMilliseconds:F0} ms, {worstAt} ({worst / firstRun:F3}) | {layerBytes / 1048576.0:F0} MB |");
    }

    // A state's key is the chain's key only until a statement that changed nothing (its state keeps the earlier key).
    private static int? IndexOf(IReadOnlyList<ChainKey> keys, ChainKey key) => keys.Select((k, i) => (k, i)).FirstOrDefault(p => p.k == key) is ({ } found, var at) && found == key ? at : null;

    private static Task<RunResult> RunAsync(RunExecutor executor, ScriptEdits edits, Guid instance, AnalyzedChain chain, ChainKey? state, IProgress<RunProgress>? progress = null) =>
        executor.RunAsync(new ChainRun(instance, Limits, chain, 0, chain.Statements.Count, state, new ResultLimits(), EditPoint: edits.Learn("student", "script.sql", chain.Keys)), progress, CancellationToken.None);

    /// <summary>
    /// Where a rerun's time went, from the executor's own progress reports (taken as they are made, not posted):
    /// from "restoring" to the first statement is the restore and the new session; then replaying, running, taking layers.
    /// </summary>
    private sealed class PhaseTimes : IProgress<RunProgress>
    {
        private readonly Dictionary<string, TimeSpan> _spent = [];
        private (string Phase, long At)? _current = ("planning", Stopwatch.GetTimestamp());

        public void Report(RunProgress value) => Switch(value.Phase.ToString().ToLowerInvariant());

        public void End() => Switch(null);

        public string Describe() => string.Join(", ", _spent.Select(p => $"{p.Key} {p.Value.TotalMilliseconds:F0} ms"));

        private void Switch(string? next)
        {
            var now = Stopwatch.GetTimestamp();
            if (_current is var (phase, at))
            {
                _spent[phase] = _spent.GetValueOrDefault(phase) + Stopwatch.GetElapsedTime(at, now);
            }

            _current = next is null ? null : (next, now);
        }
    }

    /// <summary>The script with exercise statement <c>edit.Statement</c> changed (its <c>{0}</c> becomes the edit's number; 0 in the original).</summary>
    private static AnalyzedChain Analyze(EngineIdentity engine, Shape shape, (int Statement, int Edit)? edit)
    {
        var text = new StringBuilder(shape.Load);
        for (var i = 0; i < shape.Exercise.Count; i++)
        {
            var value = edit is { } e && e.Statement == i ? e.Edit : 0;
            text.Append(string.Format(CultureInfo.InvariantCulture, shape.Exercise[i], value)).Append('\n');
        }

        return ChainAnalysis.Analyze([new SqlSource("script.sql", text.ToString())], engine);
    }

    private static string CopyLoad(int rows)
    {
        string[] cities = ["Oslo", "Lima", "Pune", "Kyiv", "Accra", "Quito", "Turku", "Dakar"];
        var text = new StringBuilder("CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, city text NOT NULL, born date NOT NULL);\nCOPY people FROM STDIN;\n");
        for (var i = 1; i <= rows; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{i}\tperson {i}\t{cities[i % cities.Length]}\t{1950 + i % 60}-{1 + i % 12:00}-{1 + i % 28:00}\n");
        }

        return text.Append("\\.\nANALYZE people;\n").ToString();
    }

    private static void Check(RunResult run)
    {
        if (!run.Succeeded)
        {
            var error = run.Outcomes.FirstOrDefault(o => o.Error is not null)?.Error;
            throw new InvalidOperationException($"The rerun failed: {run.Plan.Describe()} ({error?.SqlState} {error?.Message}).");
        }
    }
}
