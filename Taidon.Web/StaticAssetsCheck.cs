using System.Text.Json;
using Microsoft.Extensions.FileProviders;

namespace Taidon.Web;

/// <summary>
/// Refuses to start when the static files the app serves are not in its web root: a build output run
/// outside Development (its manifest points at the source and NuGet folders, which only Development
/// reads), or a published app started outside its folder. Either way every stylesheet and script would
/// be served with 0 bytes and the pages would come out bare.
/// </summary>
public static class StaticAssetsCheck
{
    public const string PublishCommand = "dotnet publish Taidon.Web -c Release -o /opt/taidon";

    public static void AddStaticAssetsCheck(this IServiceCollection services) => services.AddHostedService<Check>();

    /// <summary>
    /// What is wrong with the static files of the app in <paramref name="appDirectory"/> served from
    /// <paramref name="webRoot"/>, in words that say what to do; null when every file its manifest
    /// (<c>&lt;app&gt;.staticwebassets.endpoints.json</c>, what <c>MapStaticAssets</c> serves) names is there.
    /// </summary>
    public static string? FindProblem(string appDirectory, string applicationName, IFileProvider webRoot, string contentRoot)
    {
        var manifest = Path.Combine(appDirectory, $"{applicationName}.staticwebassets.endpoints.json");
        if (!File.Exists(manifest))
        {
            return null;
        }

        using var stream = File.OpenRead(manifest);
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;
        var files = root.GetProperty("Endpoints").EnumerateArray()
            .Select(endpoint => endpoint.GetProperty("AssetFile").GetString()!)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var missing = files.Where(file => !webRoot.GetFileInfo(file).Exists).ToList();
        if (missing.Count == 0)
        {
            return null;
        }

        var isBuildOutput = root.TryGetProperty("ManifestType", out var type) && type.GetString() == "Build";
        if (isBuildOutput)
        {
            return $"{applicationName} runs from a build output ({appDirectory}), not a published app: outside Development its static files "
                + $"(MudBlazor's stylesheet, the scripts) would be served empty, since the build's manifest points at the source and NuGet folders. "
                + $"Publish it and run the published {applicationName}.dll in its folder: `{PublishCommand}`, then `cd /opt/taidon && dotnet {applicationName}.dll` "
                + "(README.md, \"One server in production\"). To try it from the build output, set ASPNETCORE_ENVIRONMENT=Development.";
        }

        return $"{missing.Count} of the {files.Count} static files {applicationName} serves are not in its web root under {contentRoot} ({missing[0]}, for one): "
            + $"the content root is the working directory, and the published app's wwwroot and appsettings.json are in {appDirectory}. "
            + $"Start {applicationName}.dll in its folder (`cd {appDirectory}`; WorkingDirectory= in a systemd unit), or set ASPNETCORE_CONTENTROOT={appDirectory}.";
    }

    /// <summary>Runs before any hosted service starts (the migrations included).</summary>
    private sealed class Check(IWebHostEnvironment environment) : IHostedLifecycleService
    {
        public Task StartingAsync(CancellationToken cancellationToken)
        {
            if (FindProblem(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory), environment.ApplicationName, environment.WebRootFileProvider, environment.ContentRootPath) is { } problem)
            {
                throw new InvalidOperationException(problem);
            }

            return Task.CompletedTask;
        }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
