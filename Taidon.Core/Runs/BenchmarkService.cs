using Taidon.Core.Instances;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Runs;

/// <summary>A bench/ script's run: the script as usual, then each query timed over several repetitions, with its plan.</summary>
public sealed record BenchmarkReport(Instance Instance, AnalyzedChain Chain, RunResult Run, IReadOnlyList<StatementBenchmark> Statements, IReadOnlyList<BenchmarkProblem> Problems);

/// <summary>A query that could not be timed, and why (its error).</summary>
public sealed record BenchmarkProblem(int Index, string Message);

/// <summary>
/// Runs a bench/ script: once as a run (results, errors, the cache as usual), then each of its queries
/// in the state just before it, timed with EXPLAIN (ANALYZE) <see cref="Repetitions"/> times (the median
/// is what counts). The instance ends in the state after the script, as after any run.
/// </summary>
public sealed class BenchmarkService(RunService runs)
{
    public const int Repetitions = 5;

    public async Task<BenchmarkReport> RunAsync(string ownerId, IReadOnlyList<SqlSource> sources, string script, IProgress<RunProgress>? progress, CancellationToken cancellationToken)
    {
        var (instance, chain, run) = await runs.RunAsync(ownerId, null, sources, new HeadSelection(FromFile: script), progress, cancellationToken);
        var queries = chain.Statements.Where(s => s.Span.File == script && QueryPlans.IsExplainable(s)).ToList();
        if (!run.Succeeded || queries.Count == 0)
        {
            return new BenchmarkReport(instance, chain, run, [], []);
        }

        var timed = new List<StatementBenchmark>();
        var problems = new List<BenchmarkProblem>();
        try
        {
            for (var q = 0; q < queries.Count; q++)
            {
                var query = queries[q];
                var number = q + 1;

                // The state just before the query (at once when nothing in between changed the database).
                instance = (await runs.RunAgainAsync(ownerId, instance.Id, sources, chain, new HeadSelection(query.Index, query.Index), cancellationToken)).Instance;
                try
                {
                    var plans = await runs.ExplainAsync(ownerId, instance.Id, query, Repetitions, new SynchronousProgress(r => progress?.Report(new RunProgress(number, queries.Count, RunPhase.Benchmarking, $"{r}/{Repetitions}"))), cancellationToken);
                    var parsed = plans.Select(QueryPlans.Parse).ToList();
                    timed.Add(new StatementBenchmark(query.Index, [.. parsed.Select(p => p.ExecutionMs)], QueryPlans.Median([.. parsed.Select(p => p.PlanningMs)]), parsed[^1].Plan));
                }
                catch (QueryTimingException e)
                {
                    problems.Add(new BenchmarkProblem(query.Index, $"{e.SqlState}: {e.Message}"));
                }
            }
        }
        finally
        {
            // Back to where the run left the instance.
            var end = chain.Statements.Count;
            instance = (await runs.RunAgainAsync(ownerId, instance.Id, sources, chain, new HeadSelection(end, end), CancellationToken.None)).Instance;
        }

        return new BenchmarkReport(instance, chain, run, timed, problems);
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SynchronousProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
