namespace Taidon.Core.SqlChain;

/// <summary>A file of a split: where its statements and problems begin, and the session it began in.</summary>
internal sealed record SplitFile(SourceText File, int FirstStatement, int FirstProblem, byte SessionAtStart);

/// <summary>What a split keeps to be split again after an edit: its files and a checkpoint per statement.</summary>
internal sealed record SplitTrace(IReadOnlyList<SplitFile> Files, IReadOnlyList<SplitCheckpoint> Checkpoints, byte SessionAtEnd);

/// <summary>
/// Splits scripts again after one file changed, reading only around the change: the statements before
/// it are kept, the splitter resumes at the last checkpoint the change cannot have touched, and it stops
/// at the first checkpoint after the change where it is in the state the previous split was in at the
/// same place (then the rest of the text, the same, splits the same: those statements are moved, not
/// read). A change that alters how the rest reads (an opened quote or comment, a SET of
/// standard_conforming_strings, COPY data) simply finds no such checkpoint until it stops mattering.
/// </summary>
internal static class IncrementalSplit
{
    /// <summary>
    /// The split of <paramref name="sources"/>, equal to <see cref="SqlSplitter.Split(IReadOnlyList{SqlSource})"/>,
    /// and the first statement whose content may differ from <paramref name="previous"/>'s; null when
    /// the sources are not the previous ones with one file's text changed.
    /// </summary>
    public static (SqlScript Script, int FirstChanged)? Split(SqlScript previous, IReadOnlyList<SqlSource> sources)
    {
        if (previous.Trace is not { } trace || trace.Files.Count != sources.Count)
        {
            return null;
        }

        var edited = -1;
        for (var i = 0; i < sources.Count; i++)
        {
            var before = trace.Files[i].File.Source;
            if (before.Path != sources[i].Path)
            {
                return null;
            }

            if (!ReferenceEquals(before.Text, sources[i].Text) && before.Text != sources[i].Text)
            {
                if (edited >= 0)
                {
                    return null;
                }

                edited = i;
            }
        }

        if (edited < 0)
        {
            return (previous, previous.Statements.Count);
        }

        var script = new Resplit(previous, trace, sources, edited).Run();
        return (script, FirstChanged(previous.Statements, script.Statements, trace.Files[edited].FirstStatement));
    }

    /// <summary>The first statement from <paramref name="from"/> on that differs in what its key hashes.</summary>
    private static int FirstChanged(IReadOnlyList<SqlStatement> before, IReadOnlyList<SqlStatement> after, int from)
    {
        var i = from;
        while (i < before.Count && i < after.Count && SameContent(before[i], after[i]))
        {
            i++;
        }

        return i == before.Count && i == after.Count ? i : Math.Min(i, after.Count);
    }

    private static bool SameContent(SqlStatement a, SqlStatement b) =>
        a.Kind == b.Kind && a.CopyData == b.CopyData && a.NormalizedUtf8.SequenceEqual(b.NormalizedUtf8);

    private static int CommonSuffixLength(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        const int Step = 256;
        var most = Math.Min(a.Length, b.Length);
        var length = 0;
        while (length + Step <= most && a.Slice(a.Length - length - Step, Step).SequenceEqual(b.Slice(b.Length - length - Step, Step)))
        {
            length += Step;
        }

        while (length < most && a[a.Length - 1 - length] == b[b.Length - 1 - length])
        {
            length++;
        }

        return length;
    }

    /// <summary>One re-split: the files before the edited one as they were, the edited one around its change, the files after it moved or split again.</summary>
    private sealed class Resplit(SqlScript previous, SplitTrace trace, IReadOnlyList<SqlSource> sources, int edited)
    {
        private readonly SplitOutput _output = new(4096);
        private readonly SplitFile[] _files = new SplitFile[sources.Count];

        public SqlScript Run()
        {
            var old = trace.Files[edited];
            for (var i = 0; i < edited; i++)
            {
                _files[i] = trace.Files[i];
            }

            _output.Statements.AddRange(previous.Statements.Take(old.FirstStatement));
            _output.Checkpoints.AddRange(trace.Checkpoints.Take(old.FirstStatement));
            _output.Problems.AddRange(previous.Problems.Take(old.FirstProblem));

            var session = new SessionStrings { State = old.SessionAtStart };
            var endState = SplitEdited(old, session);
            for (var i = edited + 1; i < sources.Count; i++)
            {
                var next = trace.Files[i];
                var (statementEnd, problemEnd) = Ends(i);
                var file = new SplitFile(next.File, _output.Statements.Count, _output.Problems.Count, endState);
                _files[i] = file;
                if (endState == next.SessionAtStart)
                {
                    // The file begins in the session it began in before: its split is the same, moved in the chain.
                    for (var s = next.FirstStatement; s < statementEnd; s++)
                    {
                        _output.Statements.Add(previous.Statements[s].Moved(_output.Statements.Count, next.File, 0));
                        _output.Checkpoints.Add(trace.Checkpoints[s]);
                    }

                    _output.Problems.AddRange(previous.Problems.Skip(next.FirstProblem).Take(problemEnd - next.FirstProblem));
                    endState = i + 1 < sources.Count ? trace.Files[i + 1].SessionAtStart : trace.SessionAtEnd;
                }
                else
                {
                    session.State = endState;
                    new ScriptSplitter(next.File, session, _output).Run();
                    endState = session.State;
                }
            }

            return new SqlScript(_output.Statements, _output.Problems) { Trace = new SplitTrace(_files, _output.Checkpoints, endState) };
        }

        /// <summary>Splits the edited file again around its change; returns the session state at its end.</summary>
        private byte SplitEdited(SplitFile old, SessionStrings session)
        {
            var before = old.File.Text;
            var file = new SourceText(sources[edited]);
            var after = file.Text;
            var changeStart = before.AsSpan().CommonPrefixLength(after);
            var suffix = Math.Min(CommonSuffixLength(before, after), Math.Min(before.Length, after.Length) - changeStart);
            var changeEnd = after.Length - suffix;
            var shift = after.Length - before.Length;
            var (statementEnd, problemEnd) = Ends(edited);
            _files[edited] = new SplitFile(file, old.FirstStatement, old.FirstProblem, old.SessionAtStart);

            // Resume after the last statement whose split cannot depend on the change.
            var resumeAfter = statementEnd - 1;
            while (resumeAfter >= old.FirstStatement && !(trace.Checkpoints[resumeAfter].CanResume && trace.Checkpoints[resumeAfter].DependsThrough < changeStart))
            {
                resumeAfter--;
            }

            SplitCheckpoint? resume = resumeAfter >= old.FirstStatement ? trace.Checkpoints[resumeAfter] : null;
            var resumeAt = resume?.End ?? 0;
            for (var s = old.FirstStatement; s <= resumeAfter; s++)
            {
                _output.Statements.Add(previous.Statements[s].Moved(s, file, 0));
                _output.Checkpoints.Add(trace.Checkpoints[s]);
            }

            for (var p = old.FirstProblem; p < problemEnd && old.File.IndexOf(previous.Problems[p].Position) < resumeAt; p++)
            {
                _output.Problems.Add(previous.Problems[p]);
            }

            // Stop at a checkpoint past the change that the previous split passed through in the same state.
            var resyncedAt = -1;
            bool Resynced(SplitCheckpoint reached)
            {
                if (reached.End <= changeEnd)
                {
                    return false;
                }

                var j = FindEnd(old.FirstStatement, statementEnd, reached.End - shift);
                if (j < 0 || trace.Checkpoints[j].Moved(shift) != reached)
                {
                    return false;
                }

                resyncedAt = j;
                return true;
            }

            if (!new ScriptSplitter(file, session, _output).Run(resume, Resynced))
            {
                return session.State;
            }

            for (var s = resyncedAt + 1; s < statementEnd; s++)
            {
                _output.Statements.Add(previous.Statements[s].Moved(_output.Statements.Count, file, shift));
                var checkpoint = trace.Checkpoints[s];
                _output.Checkpoints.Add(checkpoint.CanResume ? checkpoint.Moved(shift) : checkpoint);
            }

            var resyncEnd = trace.Checkpoints[resyncedAt].End;
            for (var p = old.FirstProblem; p < problemEnd; p++)
            {
                var problem = previous.Problems[p];
                var at = old.File.IndexOf(problem.Position);
                if (at >= resyncEnd)
                {
                    _output.Problems.Add(file.Problem(at + shift, problem.Message, problem.Hint));
                }
            }

            return edited + 1 < sources.Count ? trace.Files[edited + 1].SessionAtStart : trace.SessionAtEnd;
        }

        /// <summary>The statement of the previous split, between <paramref name="from"/> and <paramref name="to"/>, that ends at <paramref name="end"/>; -1 if none.</summary>
        private int FindEnd(int from, int to, int end)
        {
            int low = from, high = to - 1;
            while (low <= high)
            {
                var middle = (low + high) >>> 1;
                var at = previous.Statements[middle].EndIndex;
                if (at == end)
                {
                    return middle;
                }

                (low, high) = at < end ? (middle + 1, high) : (low, middle - 1);
            }

            return -1;
        }

        /// <summary>Where file <paramref name="i"/>'s statements and problems end in the previous split.</summary>
        private (int Statements, int Problems) Ends(int i) =>
            i + 1 < trace.Files.Count
                ? (trace.Files[i + 1].FirstStatement, trace.Files[i + 1].FirstProblem)
                : (previous.Statements.Count, previous.Problems.Count);
    }
}
