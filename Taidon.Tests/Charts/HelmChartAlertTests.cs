using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Common;
using YamlDotNet.RepresentationModel;

namespace Taidon.Tests.Charts;

/// <summary>
/// The PrometheusRule's alerts for a school's cluster: the instances' quota nearly used, instance pods
/// left Pending, snapshot layers failing; each with the thresholds of the values, and only where the
/// runtime makes what they watch.
/// </summary>
public sealed class HelmChartAlertTests
{
    private static readonly string Maximal = Path.Combine(HelmChartTests.Chart, "ci", "maximal-values.yaml");

    [Fact]
    public async Task TheKubernetesRuntimesAlertsWatchTheInstancesNamespaceWithTheThresholdsOfTheValues()
    {
        // maximal-values.yaml: instances in sql-class-instances, 0.85 of the quota, 7 minutes Pending, more than 1 failed snapshot.
        var alerts = await AlertsAsync("-f", Maximal);

        var quota = alerts["TaidonInstancesQuotaNearlyUsed"];
        Assert.Contains("""kube_resourcequota{namespace="sql-class-instances", resourcequota="taidon-instances", type="used"}""", Expr(quota), StringComparison.Ordinal);
        Assert.Contains("""kube_resourcequota{namespace="sql-class-instances", resourcequota="taidon-instances", type="hard"} > 0""", Expr(quota), StringComparison.Ordinal);
        Assert.EndsWith("> 0.85", Expr(quota), StringComparison.Ordinal);

        var pending = alerts["TaidonInstancePodsPending"];
        Assert.Equal("""max by (pod) (kube_pod_status_phase{namespace="sql-class-instances", phase="Pending"}) > 0""", Expr(pending));
        Assert.Equal("7m", ((YamlScalarNode)pending.Children["for"]).Value);

        var snapshots = alerts["TaidonSnapshotsFailing"];
        Assert.Equal("""sum by (kind) (increase(taidon_snapshots_failed_total{job="taidon-metrics", namespace="taidon"}[15m])) > 1""", Expr(snapshots));
        Assert.Contains("fast-ssd-snapclass", ((YamlScalarNode)((YamlMappingNode)snapshots.Children["annotations"]).Children["description"]).Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDefaultThresholdsAreAQuotaOver80PercentFiveMinutesPendingAndMoreThanTwoFailedSnapshots()
    {
        var alerts = await AlertsAsync(
            "--set", "monitoring.prometheusRule.enabled=true,runtime=kubernetes,instances.volumeSnapshotClassName=snapclass",
            "--set", "networkPolicy.kubernetesApi[0].cidr=10.96.0.1/32,networkPolicy.kubernetesApi[0].ports[0]=443");

        Assert.EndsWith("> 0.8", Expr(alerts["TaidonInstancesQuotaNearlyUsed"]), StringComparison.Ordinal);
        Assert.Contains("""namespace="taidon-instances", phase="Pending""", Expr(alerts["TaidonInstancePodsPending"]), StringComparison.Ordinal);
        Assert.Equal("5m", ((YamlScalarNode)alerts["TaidonInstancePodsPending"].Children["for"]).Value);
        Assert.EndsWith("> 2", Expr(alerts["TaidonSnapshotsFailing"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAQuotaThereIsNoQuotaAlertAndTheEmbeddedRuntimeHasNoneOfThem()
    {
        var noQuota = await AlertsAsync("-f", Maximal, "--set", "instances.resourceQuota.enabled=false");
        Assert.DoesNotContain("TaidonInstancesQuotaNearlyUsed", noQuota.Keys);
        Assert.Contains("TaidonInstancePodsPending", noQuota.Keys);

        var embedded = await AlertsAsync("--set", "monitoring.prometheusRule.enabled=true");
        Assert.Contains("TaidonDown", embedded.Keys);
        Assert.DoesNotContain("TaidonInstancesQuotaNearlyUsed", embedded.Keys);
        Assert.DoesNotContain("TaidonInstancePodsPending", embedded.Keys);
        Assert.DoesNotContain("TaidonSnapshotsFailing", embedded.Keys);
    }

    [Fact]
    public void TheSnapshotAlertReadsTheCounterTheAppExports()
    {
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var telemetry = new TaidonTelemetry(meters.GetRequiredService<IMeterFactory>());

        // The Prometheus exporter writes a counter's dots as underscores and adds _total.
        Assert.Equal("taidon_snapshots_failed_total", telemetry.SnapshotsFailed.Name.Replace('.', '_') + "_total");
    }

    [Theory]
    [InlineData("monitoring.prometheusRule.instancesQuotaUsedAbove=1.5", "instancesQuotaUsedAbove")]
    [InlineData("monitoring.prometheusRule.instancePodPendingMinutes=0", "instancePodPendingMinutes")]
    [InlineData("monitoring.prometheusRule.snapshotFailuresPer15m=-1", "snapshotFailuresPer15m")]
    public async Task TheSchemaRefusesAThresholdOutOfRange(string setting, string named)
    {
        var rendered = await HelmChartTests.HelmAsync("template", "taidon", HelmChartTests.Chart, "--set", setting);

        Assert.NotEqual(0, rendered.ExitCode);
        Assert.Contains(named, rendered.Output, StringComparison.Ordinal);
    }

    private static string Expr(YamlMappingNode alert) => Regex.Replace(((YamlScalarNode)alert.Children["expr"]).Value!.Trim(), @"\s+", " ");

    /// <summary>The PrometheusRule's alerts by name, rendered into the namespace "taidon".</summary>
    private static async Task<Dictionary<string, YamlMappingNode>> AlertsAsync(params string[] arguments)
    {
        var rendered = await HelmChartTests.HelmAsync(["template", "taidon", HelmChartTests.Chart, "--namespace", HelmChartTests.Namespace, "--show-only", "templates/prometheusrule.yaml", .. arguments]);
        Assert.True(rendered.ExitCode == 0, rendered.Output);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(rendered.Output));
        var rule = (YamlMappingNode)yaml.Documents.Single().RootNode;
        Assert.Equal("PrometheusRule", ((YamlScalarNode)rule.Children["kind"]).Value);
        return ((YamlSequenceNode)((YamlMappingNode)rule.Children["spec"]).Children["groups"])
            .Cast<YamlMappingNode>()
            .SelectMany(group => ((YamlSequenceNode)group.Children["rules"]).Cast<YamlMappingNode>())
            .Where(r => r.Children.ContainsKey("alert"))
            .ToDictionary(r => ((YamlScalarNode)r.Children["alert"]).Value!, r => r);
    }
}
