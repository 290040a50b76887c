namespace Taidon.Tests.Support;

/// <summary>The repository the tests run from, for tests that read its sources or its chart.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Taidon.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The tests run outside the repository: Taidon.sln not found above " + AppContext.BaseDirectory);
    }
}
