using System.Globalization;
using Taidon.Core.Instances;

namespace Taidon.Infrastructure.Runs;

/// <summary>The machine's load and memory from /proc (the cores as .NET sees them, a container's CPU limit included); zeros where /proc is not there.</summary>
public sealed class ProcMachineLoad : IMachineLoad
{
    public MachineLoad Read()
    {
        var load = 0.0;
        long available = 0, total = 0;
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ');
            load = double.Parse(fields[0], CultureInfo.InvariantCulture);
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    total = Kilobytes(line) * 1024;
                }
                else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    available = Kilobytes(line) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // Not Linux, or /proc hidden: the overview shows what it has.
        }

        return new MachineLoad(Environment.ProcessorCount, load, available, total);
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
