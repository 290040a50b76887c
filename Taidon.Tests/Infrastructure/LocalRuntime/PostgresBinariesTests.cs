using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Tests.Infrastructure.LocalRuntime;

public sealed class PostgresBinariesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("taidon-binaries-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void FindsTheNewestPackagedVersionWhenPathHasNone()
    {
        MakeInstallation(Path.Combine(_root, "lib", "13", "bin"));
        MakeInstallation(Path.Combine(_root, "lib", "16", "bin"));
        Directory.CreateDirectory(Path.Combine(_root, "lib", "17")); // no bin: ignored

        var found = PostgresBinaries.Locate(null, pathVariable: Path.Combine(_root, "empty"), packageRoot: Path.Combine(_root, "lib"));

        Assert.Equal(16, found.MajorVersion);
        Assert.Equal(Path.Combine(_root, "lib", "16", "bin"), found.BinDirectory);
    }

    [Fact]
    public void FollowsALinkOnPathToTheRealInstallation()
    {
        var real = Path.Combine(_root, "pg", "15", "bin");
        MakeInstallation(real);
        var onPath = Directory.CreateDirectory(Path.Combine(_root, "usr-bin")).FullName;
        File.CreateSymbolicLink(Path.Combine(onPath, "pg_ctl"), Path.Combine(real, "pg_ctl"));

        var found = PostgresBinaries.Locate(null, pathVariable: onPath, packageRoot: Path.Combine(_root, "none"));

        Assert.Equal(real, found.BinDirectory);
        Assert.Equal(15, found.MajorVersion);
    }

    [Fact]
    public void MissingProgramsGiveOneMessageThatSaysHowToInstallThem()
    {
        var error = Assert.Throws<PostgresNotFoundException>(() =>
            PostgresBinaries.Locate(null, pathVariable: Path.Combine(_root, "empty"), packageRoot: Path.Combine(_root, "none")));

        Assert.Contains("apt-get install postgresql", error.Message, StringComparison.Ordinal);
        Assert.Contains("Taidon:Postgres:BinDirectory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AConfiguredDirectoryWithoutTheProgramsIsNamedInTheError()
    {
        var error = Assert.Throws<PostgresNotFoundException>(() => PostgresBinaries.Locate(_root));

        Assert.Contains(_root, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindsTheServerOfThisMachine()
    {
        var found = PostgresBinaries.Locate(null);

        Assert.True(File.Exists(found.InitDb));
        Assert.True(found.MajorVersion >= 13);
    }

    private static void MakeInstallation(string bin)
    {
        Directory.CreateDirectory(bin);
        foreach (var program in new[] { "initdb", "pg_ctl", "postgres" })
        {
            File.WriteAllText(Path.Combine(bin, program), "#!/bin/sh\n");
        }
    }
}
