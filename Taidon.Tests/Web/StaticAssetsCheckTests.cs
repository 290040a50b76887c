using System.Diagnostics;
using Microsoft.Extensions.FileProviders;
using Npgsql;
using Taidon.Tests.Support;
using Taidon.Web;

namespace Taidon.Tests.Web;

/// <summary>
/// Outside Development a build output served MudBlazor's stylesheet and every script with 0 bytes (its
/// manifest points at the source and NuGet folders): the app now refuses to start and says to publish.
/// </summary>
public sealed class StaticAssetsCheckTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("taidon-assets-").FullName;

    private static readonly string BuildOutput = AppProcess.BuildOutput;

    [Fact]
    public async Task TheBuildOutputRunInProductionRefusesToStartBeforeTheMigrationsAndSaysToPublish()
    {
        var connection = await TestControlPlane.CreateDatabaseAsync("buildoutput");
        var start = new ProcessStartInfo("dotnet", ["Taidon.Web.dll"])
        {
            WorkingDirectory = BuildOutput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["ConnectionStrings__ControlPlane"] = connection,
                ["Taidon__DataDirectory"] = _directory,
                ["Taidon__Jobs__RunServer"] = "false",
                ["Taidon__Storage__CopyOnWrite"] = "off",
                ["Taidon__Instances__WarmPoolSize"] = "0",
            },
        };
        using var app = Process.Start(start)!;
        var output = app.StandardOutput.ReadToEndAsync();
        var error = app.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await app.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!app.HasExited)
            {
                app.Kill(entireProcessTree: true);
            }
        }

        var said = await output + await error;
        Assert.NotEqual(0, app.ExitCode);
        Assert.Contains("Taidon.Web runs from a build output", said, StringComparison.Ordinal);
        Assert.Contains("`dotnet publish Taidon.Web -c Release -o /opt/taidon`, then `cd /opt/taidon && dotnet Taidon.Web.dll`", said, StringComparison.Ordinal);
        Assert.Contains("set ASPNETCORE_ENVIRONMENT=Development", said, StringComparison.Ordinal);

        // Refused before any hosted service started: the database was not even migrated.
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var history = new NpgsqlCommand("SELECT to_regclass('\"__EFMigrationsHistory\"') IS NULL", db);
        Assert.Equal(true, await history.ExecuteScalarAsync());
    }

    [Fact]
    public void TheBuildOutputsManifestWithoutItsStaticWebAssetsIsABuildOutput()
    {
        var webRoot = Path.Combine(BuildOutput, "wwwroot");
        Assert.False(Directory.Exists(webRoot));

        var problem = StaticAssetsCheck.FindProblem(BuildOutput, "Taidon.Web", new NullFileProvider(), BuildOutput);

        Assert.NotNull(problem);
        Assert.Contains(StaticAssetsCheck.PublishCommand, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void APublishedAppStartedInItsFolderPassesAndStartedElsewhereIsToldWhere()
    {
        var published = Directory.CreateDirectory(Path.Combine(_directory, "published")).FullName;
        File.WriteAllText(Path.Combine(published, "Taidon.Web.staticwebassets.endpoints.json"), """
            {"Version":1,"ManifestType":"Publish","Endpoints":[
              {"Route":"css/app.css","AssetFile":"css/app.css","Selectors":[],"ResponseHeaders":[]},
              {"Route":"css/app.css","AssetFile":"css/app.css.gz","Selectors":[],"ResponseHeaders":[]}]}
            """);
        Directory.CreateDirectory(Path.Combine(published, "wwwroot", "css"));
        File.WriteAllText(Path.Combine(published, "wwwroot", "css", "app.css"), "body { margin: 0 }");
        File.WriteAllBytes(Path.Combine(published, "wwwroot", "css", "app.css.gz"), [0x1f, 0x8b]);
        var elsewhere = Directory.CreateDirectory(Path.Combine(_directory, "elsewhere")).FullName;

        using (var inItsFolder = new PhysicalFileProvider(Path.Combine(published, "wwwroot")))
        {
            Assert.Null(StaticAssetsCheck.FindProblem(published, "Taidon.Web", inItsFolder, published));
        }

        var problem = StaticAssetsCheck.FindProblem(published, "Taidon.Web", new NullFileProvider(), elsewhere);

        Assert.NotNull(problem);
        Assert.Contains($"2 of the 2 static files Taidon.Web serves are not in its web root under {elsewhere}", problem, StringComparison.Ordinal);
        Assert.Contains($"ASPNETCORE_CONTENTROOT={published}", problem, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
