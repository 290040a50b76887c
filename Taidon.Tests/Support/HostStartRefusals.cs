namespace Taidon.Tests.Support;

/// <summary>
/// Tests whose apps are refused while they start, after their hosted services were made. Hangfire keeps
/// one process-wide log provider, set by the last app that made its services; a refused app disposes its
/// logger factory at once, and another app starting alongside would log through it (ObjectDisposedException).
/// These tests run after the others, alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostStartRefusals
{
    public const string Name = "Apps refused while they start";
}
