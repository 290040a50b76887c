namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>The PostgreSQL server programs of one installation (initdb, pg_ctl, postgres).</summary>
public sealed record PostgresBinaries(string BinDirectory, int MajorVersion)
{
    private static readonly string[] RequiredPrograms = ["initdb", "pg_ctl", "postgres"];

    public string InitDb => Path.Combine(BinDirectory, "initdb");

    public string Postgres => Path.Combine(BinDirectory, "postgres");

    public const string InstallHint =
        "Install the PostgreSQL server (on Debian or Ubuntu: 'apt-get install postgresql'), " +
        "put its bin directory on PATH, or set Taidon:Postgres:BinDirectory (environment Taidon__Postgres__BinDirectory).";

    /// <summary>
    /// Finds the server programs: the configured directory, else the first directory on PATH that holds
    /// all of them (following symbolic links to the real installation), else the newest
    /// <c>/usr/lib/postgresql/*/bin</c>.
    /// </summary>
    public static PostgresBinaries Locate(string? configuredDirectory, string? pathVariable = null, string packageRoot = "/usr/lib/postgresql")
    {
        if (!string.IsNullOrWhiteSpace(configuredDirectory))
        {
            return FromDirectory(configuredDirectory)
                ?? throw new PostgresNotFoundException(
                    $"Taidon:Postgres:BinDirectory is '{configuredDirectory}', but initdb, pg_ctl and postgres are not all there. {InstallHint}");
        }

        var path = pathVariable ?? Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var pgCtl = Path.Combine(directory, "pg_ctl");
            if (!File.Exists(pgCtl))
            {
                continue;
            }

            // Debian links pg_ctl into /usr/bin through a wrapper; the real directory holds initdb and postgres too.
            var real = Path.GetDirectoryName(new FileInfo(pgCtl).ResolveLinkTarget(returnFinalTarget: true)?.FullName) ?? directory;
            if (FromDirectory(real) is { } found)
            {
                return found;
            }
        }

        if (Directory.Exists(packageRoot))
        {
            var newest = Directory.EnumerateDirectories(packageRoot)
                .Select(d => (Directory: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
                .Where(c => c.Version > 0)
                .OrderByDescending(c => c.Version)
                .Select(c => FromDirectory(c.Directory))
                .FirstOrDefault(b => b is not null);
            if (newest is not null)
            {
                return newest;
            }
        }

        throw new PostgresNotFoundException($"PostgreSQL server programs (initdb, pg_ctl, postgres) were not found on PATH or in {packageRoot}/*/bin. {InstallHint}");
    }

    private static PostgresBinaries? FromDirectory(string directory)
    {
        if (!RequiredPrograms.All(p => File.Exists(Path.Combine(directory, p))))
        {
            return null;
        }

        return new PostgresBinaries(directory, ReadMajorVersion(directory));
    }

    private static int ReadMajorVersion(string directory)
    {
        // /usr/lib/postgresql/15/bin carries its version in the path; elsewhere ask the server.
        var parent = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(directory).TrimEnd('/')));
        if (int.TryParse(parent, out var fromPath))
        {
            return fromPath;
        }

        var result = ProcessRunner.Run(Path.Combine(directory, "postgres"), ["--version"], runAs: null, TimeSpan.FromSeconds(10));
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        var words = result.StandardOutput.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var version = words.Length >= 3 ? words[2] : "";
        return int.TryParse(version.Split('.')[0], out var major)
            ? major
            : throw new PostgresNotFoundException($"Could not read the PostgreSQL version from '{result.StandardOutput.Trim()}'. {InstallHint}");
    }
}

/// <summary>The PostgreSQL server programs are missing or unusable; the message says how to install them.</summary>
public sealed class PostgresNotFoundException(string message) : Exception(message);
