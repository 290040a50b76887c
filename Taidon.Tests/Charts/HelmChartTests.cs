using System.Diagnostics;
using k8s;
using k8s.Models;
using Taidon.Tests.Support;

namespace Taidon.Tests.Charts;

/// <summary>
/// The Helm chart, checked without a cluster: helm lint --strict and helm template with every CI values
/// file; each rendered object is loaded with KubernetesClient's strict YAML loader (an unknown field
/// fails); the schema refuses wrong values. Helm comes from scripts/install-helm.sh (TAIDON_HELM overrides).
/// </summary>
public sealed class HelmChartTests
{
    private static readonly string Root = Repository.Root;
    private static readonly string Chart = Path.Combine(Root, "charts", "taidon");

    public static TheoryData<string> ValuesFiles()
    {
        var files = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Chart, "ci"), "*.yaml").Order(StringComparer.Ordinal))
        {
            files.Add(Path.GetFileName(file));
        }

        return files;
    }

    [Theory]
    [MemberData(nameof(ValuesFiles))]
    public async Task EveryValuesFileLintsStrictlyAndRendersObjectsKubernetesAccepts(string valuesFile)
    {
        var values = Path.Combine(Chart, "ci", valuesFile);
        var lint = await HelmAsync("lint", "--strict", "-f", values, Chart);
        Assert.True(lint.ExitCode == 0, lint.Output);

        var rendered = await HelmAsync("template", "taidon", Chart, "-f", values, "--namespace", "taidon");
        Assert.True(rendered.ExitCode == 0, rendered.Output);

        var documents = rendered.Output.Split("\n---", StringSplitOptions.RemoveEmptyEntries)
            .Where(d => d.Contains("kind:", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(documents);
        var builtIn = documents.Where(d => !d.Contains("monitoring.coreos.com", StringComparison.Ordinal)).ToList();
        var objects = builtIn.SelectMany(d => KubernetesYaml.LoadAllFromString(d, strict: true)).ToList();

        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        var app = deployment.Spec.Template.Spec.Containers.Single();
        Assert.True(app.SecurityContext.RunAsNonRoot);
        Assert.False(app.SecurityContext.AllowPrivilegeEscalation);
        Assert.Contains("ALL", app.SecurityContext.Capabilities.Drop);
        Assert.Equal("RuntimeDefault", app.SecurityContext.SeccompProfile?.Type ?? deployment.Spec.Template.Spec.SecurityContext?.SeccompProfile?.Type);
        Assert.Equal("/healthz", app.LivenessProbe.HttpGet.Path);
        Assert.Equal("/readyz", app.ReadinessProbe.HttpGet.Path);
        Assert.All(objects.OfType<IMetadata<V1ObjectMeta>>(), o => Assert.NotNull(o.GetLabel("app.kubernetes.io/name")));
        // A variable is a setting, or a part another one takes in with $(NAME) (a password into the connection string).
        var referenced = (app.Env ?? []).Where(e => e.Value is not null).SelectMany(e => System.Text.RegularExpressions.Regex.Matches(e.Value, @"\$\(([A-Z0-9_]+)\)").Select(m => m.Groups[1].Value)).ToHashSet();
        Assert.All(app.Env ?? [], e => Assert.True(referenced.Contains(e.Name) || e.Name.StartsWith("Taidon__", StringComparison.Ordinal) || e.Name.StartsWith("ConnectionStrings__", StringComparison.Ordinal)
            || e.Name.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || e.Name.StartsWith("OTEL_", StringComparison.Ordinal) || e.Name.StartsWith("DOTNET_", StringComparison.Ordinal),
            $"{e.Name} maps onto no settings section the app reads"));
    }

    [Theory]
    [InlineData("runtime=foo")]
    [InlineData("replicaCount=-1")]
    [InlineData("taidon.logFormat=xml")]
    public async Task TheSchemaRefusesAWrongValueNamingIt(string setting)
    {
        var rendered = await HelmAsync("template", "taidon", Chart, "--set", setting);

        Assert.NotEqual(0, rendered.ExitCode);
        Assert.Contains(setting.Split('=')[0].Split('.')[^1], rendered.Output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> HelmAsync(params string[] arguments)
    {
        var helm = Environment.GetEnvironmentVariable("TAIDON_HELM") ?? Path.Combine(Root, ".tools", "bin", "helm");
        if (!File.Exists(helm))
        {
            throw new InvalidOperationException($"The chart tests need helm at {helm}: run scripts/install-helm.sh (scripts/test.sh does), or set TAIDON_HELM.");
        }

        var info = new ProcessStartInfo(helm, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["HELM_CACHE_HOME"] = Path.Combine(Path.GetTempPath(), "taidon-helm-cache");
        info.Environment["HELM_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "taidon-helm-config");
        info.Environment["HELM_DATA_HOME"] = Path.Combine(Path.GetTempPath(), "taidon-helm-data");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }
}
