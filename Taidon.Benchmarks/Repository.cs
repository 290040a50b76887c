namespace Taidon.Benchmarks;

/// <summary>The repository this build came from (the class harness starts the app from it, as the README does; the chain benchmarks read the splitter's corpus).</summary>
public static class Repository
{
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Taidon.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("The benchmarks run from the repository's build output (Taidon.sln not found above it).");
        }
    }
}
