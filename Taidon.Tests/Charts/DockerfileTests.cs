using System.Text.RegularExpressions;
using System.Xml.Linq;
using Taidon.Tests.Support;

namespace Taidon.Tests.Charts;

/// <summary>
/// The image the chart runs can be built from an on-premises mirror: no frontend pulled by a "# syntax" line,
/// base images as build arguments, and NuGet's sources from the repository's nuget.config. Read as text (no
/// container engine in the tests).
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly string Dockerfile = File.ReadAllText(Path.Combine(Repository.Root, "Dockerfile"));

    [Fact]
    public void NoSyntaxLinePullsADockerfileFrontend()
    {
        Assert.DoesNotMatch(@"(?im)^#\s*syntax\s*=", Dockerfile);
    }

    [Fact]
    public void EveryBaseImageIsABuildArgumentWithTheOfficialImageAsItsDefault()
    {
        var lines = Dockerfile.Split('\n').Select(l => l.Trim()).ToList();
        var firstFrom = lines.FindIndex(l => l.StartsWith("FROM ", StringComparison.Ordinal));
        var arguments = lines.Take(firstFrom).Select(l => ArgLine().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var stages = new HashSet<string>(StringComparer.Ordinal);

        var froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).Select(l => FromLine().Match(l)).ToList();
        Assert.Equal(3, froms.Count);
        foreach (var from in froms)
        {
            Assert.True(from.Success);
            var image = from.Groups[1].Value;
            var argument = Regex.Match(image, @"^\$\{?([A-Z_]+)\}?$");
            Assert.True(argument.Success || stages.Contains(image), $"FROM {image} names an image that no build argument can replace");
            if (argument.Success)
            {
                Assert.Contains(argument.Groups[1].Value, arguments.Keys);
                Assert.Matches(@"^(mcr\.microsoft\.com/dotnet/[a-z]+:10\.0|debian:bookworm-slim)$", arguments[argument.Groups[1].Value]);
            }

            stages.Add(from.Groups[2].Value);
        }
    }

    [Fact]
    public void TheRestoreTakesItsSourcesFromTheRepositorysNugetConfig()
    {
        var copy = Dockerfile.IndexOf("COPY global.json nuget.config ", StringComparison.Ordinal);
        Assert.True(copy >= 0, "the build stage copies nuget.config");
        Assert.True(copy < Dockerfile.IndexOf("RUN dotnet restore", StringComparison.Ordinal), "nuget.config is there before the restore");

        var config = XDocument.Load(Path.Combine(Repository.Root, "nuget.config"));
        var sources = config.Root!.Element("packageSources")!;
        Assert.Equal("clear", sources.Elements().First().Name.LocalName); // a machine's own sources stay out
        var source = Assert.Single(sources.Elements("add"));
        Assert.Equal("https://api.nuget.org/v3/index.json", source.Attribute("value")!.Value);

        var ignored = File.ReadAllLines(Path.Combine(Repository.Root, ".dockerignore")).Select(l => l.Trim());
        Assert.DoesNotContain(ignored, l => l.Contains("nuget", StringComparison.OrdinalIgnoreCase) || l is "*" or "*.config");
    }

    [Fact]
    public void TheImageRunsThePublishedAppInItsFolder()
    {
        // Elsewhere the app finds no wwwroot and refuses to start (StaticAssetsCheck).
        var output = Regex.Match(Dockerfile, @"RUN dotnet publish Taidon\.Web .*-o (\S+)").Groups[1].Value;
        Assert.Equal("/app", output);
        Assert.Contains($"WORKDIR {output}\nCOPY --from=build {output} ./", Dockerfile, StringComparison.Ordinal);
        Assert.EndsWith("ENTRYPOINT [\"dotnet\", \"Taidon.Web.dll\"]", Dockerfile.TrimEnd(), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^ARG ([A-Z_]+)=(\S+)$")]
    private static partial Regex ArgLine();

    [GeneratedRegex(@"^FROM (\S+) AS (\S+)$")]
    private static partial Regex FromLine();
}
