using Microsoft.Extensions.Logging;
using Taidon.Core.Audit;
using Taidon.Core.Git;
using Taidon.Core.Projects;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Core.Instances;

/// <summary>What a lesson's warm-up did: the course's starting state (its layer built) and the instances waiting in it.</summary>
public sealed record LessonReady(string Exercise, string StartState, int Instances, DateTimeOffset Until, bool StartStateCached);

/// <summary>
/// Gets a class's course ready before its lesson: runs the course's first exercise once (as the admin who
/// plans the lesson, from a copy of the course that is removed afterwards), which builds the layers of its
/// <c>init/</c> and <c>seed/</c> part, then has the warm pool hold an instance for each expected student in
/// the state where the exercise starts, until the lesson ends. The class's first minute then claims
/// started instances instead of starting one each, and the first run restores nothing.
/// </summary>
public sealed class LessonWarmup(IProjectGit git, ProjectService projects, RunService runs, WarmPool pool, IInstanceRuntime runtime, IAuditLog audit, ILogger<LessonWarmup> logger)
{
    public const int MaxStudents = 2000;

    /// <summary>How long before a lesson starts its warm-up runs: time to build the layers and start an instance per student.</summary>
    public static readonly TimeSpan Lead = TimeSpan.FromMinutes(15);

    public async Task<LessonReady> WarmAsync(string actorId, string courseUrl, int students, DateTimeOffset until, CancellationToken cancellationToken)
    {
        if (students is < 1 or > MaxStudents)
        {
            throw new ArgumentException($"A lesson has 1 to {MaxStudents} students, not {students}.", nameof(students));
        }

        var copy = await git.ImportAsync(actorId, courseUrl, $"lesson warm-up {Guid.NewGuid():N}"[..28], cancellationToken);
        try
        {
            var (_, scripts) = await projects.OpenAsync(actorId, copy.Id, cancellationToken);
            var paths = scripts.Select(s => s.Path).ToList();
            var exercise = ProjectChain.Order(paths).FirstOrDefault(p => p.StartsWith("test/", StringComparison.Ordinal))
                ?? throw new ArgumentException("The course has no exercise (a script in test/) whose starting state students would share.", nameof(courseUrl));
            var sources = ProjectChain.ScriptsForRun(paths, exercise).Select(p => new SqlSource(p, scripts.First(s => s.Path == p).Content)).ToList();
            var (_, chain, _) = await runs.RunAsync(actorId, null, sources, new HeadSelection(FromFile: exercise) { KeepStartAsLayer = true }, null, cancellationToken);
            var first = chain.Statements.TakeWhile(s => s.Span.File != exercise).Count();
            var start = chain.Keys[first];
            await pool.HoldForLessonAsync(students, start, until, cancellationToken);
            var ready = new LessonReady(exercise, start.ToString(), students, until, runtime.HasLayer(start));
            logger.LogInformation("Lesson warm-up: {Students} instances to wait in {State} (the start of {Exercise}) until {Until:u}", students, start.Short, exercise, until);
            await audit.RecordAsync(new AuditEvent(AuditActions.LessonWarmup, actorId, courseUrl, AuditOutcome.Succeeded,
                $"{students} instances at {start.Short} (start of {exercise}, cached: {ready.StartStateCached}) until {until:u}"), cancellationToken);
            return ready;
        }
        finally
        {
            await projects.DeleteAsync(actorId, copy.Id, CancellationToken.None);
        }
    }
}
