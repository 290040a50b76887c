using k8s.Models;
using Taidon.Infrastructure.KubernetesRuntime;

namespace Taidon.Tests.Charts;

/// <summary>
/// What the rendered NetworkPolicies let through, decided by <see cref="NetworkPolicyEvaluator"/> for pods and
/// addresses around a release "taidon" in the namespace "taidon": the app, its bundled database, the instances,
/// the ingress controller, Prometheus, the cluster's DNS, a pod elsewhere and addresses outside.
/// </summary>
public sealed class HelmChartNetworkPolicyTests
{
    private const int Http = 8080;
    private const int Metrics = 9090;
    private const int PostgreSql = 5432;
    private const string Metadata = "169.254.169.254";

    private static readonly NetworkEndpoint Elsewhere = NetworkEndpoint.Pod("default", new Dictionary<string, string> { ["app"] = "curl" }, "10.244.2.3");
    private static readonly NetworkEndpoint IngressController = NetworkEndpoint.Pod("ingress-nginx", new Dictionary<string, string> { ["app.kubernetes.io/name"] = "ingress-nginx" }, "10.244.3.2");
    private static readonly NetworkEndpoint Prometheus = NetworkEndpoint.Pod("monitoring", new Dictionary<string, string> { ["app.kubernetes.io/name"] = "prometheus" }, "10.244.4.2");
    private static readonly NetworkEndpoint Dns = NetworkEndpoint.Pod("kube-system", new Dictionary<string, string> { ["k8s-app"] = "kube-dns" }, "10.244.0.2");
    private static readonly NetworkEndpoint OtherKubeSystemPod = NetworkEndpoint.Pod("kube-system", new Dictionary<string, string> { ["k8s-app"] = "metrics-server" }, "10.244.0.3");

    [Fact]
    public async Task APodInAnotherNamespaceReachesNeitherTheAppNorItsMetricsNorTheControlPlaneDatabase()
    {
        var cluster = await MaximalAsync();

        Assert.False(cluster.Policies.Allows(Elsewhere, cluster.App, Http));
        Assert.False(cluster.Policies.Allows(Elsewhere, cluster.App, Metrics));
        Assert.False(cluster.Policies.Allows(Elsewhere, cluster.Database, PostgreSql));
        Assert.False(cluster.Policies.Allows(Elsewhere, cluster.Instance, PostgreSql));
        // A pod in the release's own namespace is no more trusted.
        var neighbour = NetworkEndpoint.Pod(HelmChartTests.Namespace, new Dictionary<string, string> { ["app"] = "debug" }, "10.244.0.50");
        Assert.False(cluster.Policies.Allows(neighbour, cluster.App, Http));
        Assert.False(cluster.Policies.Allows(neighbour, cluster.Database, PostgreSql));
    }

    [Fact]
    public async Task TheIngressControllerReachesTheAppsHttpPortButNotItsMetrics()
    {
        var cluster = await MaximalAsync();

        Assert.True(cluster.Policies.Allows(IngressController, cluster.App, Http));
        Assert.False(cluster.Policies.Allows(IngressController, cluster.App, Metrics));
        Assert.False(cluster.Policies.Allows(IngressController, cluster.Database, PostgreSql));
        // Only the controller's pods in its namespace (the values' podSelector), not every pod there.
        var sidecar = IngressController with { Labels = new Dictionary<string, string> { ["app"] = "other" } };
        Assert.False(cluster.Policies.Allows(sidecar, cluster.App, Http));
    }

    [Fact]
    public async Task MonitoringReachesTheMetricsPortAndNothingElse()
    {
        var cluster = await MaximalAsync();

        Assert.True(cluster.Policies.Allows(Prometheus, cluster.App, Metrics));
        Assert.False(cluster.Policies.Allows(Prometheus, cluster.App, Http));
        Assert.False(cluster.Policies.Allows(Prometheus, cluster.Database, PostgreSql));
        Assert.False(cluster.Policies.Allows(Prometheus, cluster.Instance, PostgreSql));
    }

    [Fact]
    public async Task TheChartsHelmTestReachesTheAppsHttpPort()
    {
        var cluster = await MaximalAsync();

        Assert.True(cluster.Policies.Allows(cluster.HelmTest, cluster.App, Http));
        Assert.False(cluster.Policies.Allows(cluster.HelmTest, cluster.App, Metrics));
    }

    [Fact]
    public async Task TheAppReachesInstancesDnsTheApiServerAndTheDatabaseButNotTheCloudMetadataNorAnythingElse()
    {
        var cluster = await MaximalAsync();
        var app = cluster.App;

        Assert.True(cluster.Policies.Allows(app, cluster.Instance, PostgreSql));
        Assert.False(cluster.Policies.Allows(app, cluster.Instance, 22));
        Assert.True(cluster.Policies.Allows(app, Dns, 53, "UDP"));
        Assert.True(cluster.Policies.Allows(app, Dns, 53, "TCP"));
        Assert.False(cluster.Policies.Allows(app, OtherKubeSystemPod, 53, "UDP"));
        Assert.True(cluster.Policies.Allows(app, NetworkEndpoint.External("192.168.49.2"), 8443)); // the values' API server
        Assert.False(cluster.Policies.Allows(app, NetworkEndpoint.External("192.168.49.3"), 8443));
        Assert.True(cluster.Policies.Allows(app, cluster.Database, PostgreSql));
        Assert.True(cluster.Policies.Allows(app, NetworkEndpoint.External("140.82.114.3"), 443)); // a Git host of the values
        Assert.True(cluster.Policies.Allows(app, NetworkEndpoint.External("140.82.114.3"), 22));
        Assert.False(cluster.Policies.Allows(app, NetworkEndpoint.External("140.82.114.3"), 80));
        Assert.True(cluster.Policies.Allows(app, NetworkEndpoint.External("203.0.113.9"), 443)); // the OIDC provider

        // The values' extraEgress allows 0.0.0.0/0 on 873: even there the metadata address is excepted.
        Assert.True(cluster.Policies.Allows(app, NetworkEndpoint.External("93.184.216.34"), 873));
        foreach (var port in new[] { 80, 443, 873 })
        {
            Assert.False(cluster.Policies.Allows(app, NetworkEndpoint.External(Metadata), port));
        }

        Assert.False(cluster.Policies.Allows(app, NetworkEndpoint.External("93.184.216.34"), 443));
        Assert.False(cluster.Policies.Allows(app, Elsewhere, Http));
        Assert.False(cluster.Policies.Allows(app, Elsewhere, PostgreSql));
        Assert.False(cluster.Policies.Allows(app, cluster.UnlabelledInInstances, PostgreSql));
    }

    [Fact]
    public async Task AnUnlabelledPodInTheInstancesNamespaceIsDeniedBothWays()
    {
        var cluster = await MaximalAsync();
        var stranger = cluster.UnlabelledInInstances;

        Assert.False(cluster.Policies.Allows(cluster.App, stranger, PostgreSql));
        Assert.False(cluster.Policies.Allows(Elsewhere, stranger, PostgreSql));
        Assert.False(cluster.Policies.Allows(stranger, Dns, 53, "UDP"));
        Assert.False(cluster.Policies.Allows(stranger, cluster.App, Http));
        Assert.False(cluster.Policies.Allows(stranger, cluster.Instance, PostgreSql));
        Assert.False(cluster.Policies.Allows(stranger, NetworkEndpoint.External("93.184.216.34"), 443));
    }

    [Fact]
    public async Task InstancesReachNothing()
    {
        var cluster = await MaximalAsync();
        var instance = cluster.Instance;

        Assert.False(cluster.Policies.Allows(instance, Dns, 53, "UDP"));
        Assert.False(cluster.Policies.Allows(instance, cluster.App, Http));
        Assert.False(cluster.Policies.Allows(instance, cluster.App, Metrics));
        Assert.False(cluster.Policies.Allows(instance, cluster.Database, PostgreSql));
        Assert.False(cluster.Policies.Allows(instance, cluster.Instance with { Address = System.Net.IPAddress.Parse("10.244.1.9") }, PostgreSql));
        Assert.False(cluster.Policies.Allows(instance, NetworkEndpoint.External("192.168.49.2"), 8443));
        Assert.False(cluster.Policies.Allows(instance, NetworkEndpoint.External(Metadata), 80));
        Assert.False(cluster.Policies.Allows(instance, NetworkEndpoint.External("93.184.216.34"), 443));
    }

    [Fact]
    public async Task TheBundledDatabaseTakesOnlyTheAppAndReachesNothing()
    {
        var cluster = await MaximalAsync();

        Assert.True(cluster.Policies.Allows(cluster.App, cluster.Database, PostgreSql));
        Assert.False(cluster.Policies.Allows(cluster.HelmTest, cluster.Database, PostgreSql));
        Assert.False(cluster.Policies.Allows(cluster.Instance, cluster.Database, PostgreSql));
        Assert.False(cluster.Policies.Allows(cluster.Database, Dns, 53, "UDP"));
        Assert.False(cluster.Policies.Allows(cluster.Database, cluster.App, Http));
        Assert.False(cluster.Policies.Allows(cluster.Database, NetworkEndpoint.External("93.184.216.34"), 443));
    }

    [Fact]
    public async Task AnExternalControlPlaneDatabaseIsReachedAtTheAddressesTheValuesName()
    {
        var objects = await HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, "ci", "external-db-values.yaml"));
        var policies = Evaluator(objects);
        var app = PodOf(objects.OfType<V1Deployment>().Single().Spec.Template, HelmChartTests.Namespace, "10.244.0.10");

        Assert.True(policies.Allows(app, NetworkEndpoint.External("10.0.5.10"), PostgreSql));
        Assert.False(policies.Allows(app, NetworkEndpoint.External("10.0.5.11"), PostgreSql));
        Assert.False(policies.Allows(app, NetworkEndpoint.External("10.0.5.10"), 22));
        // No bundled database, no instances: the embedded runtime reaches neither the API server nor any pod.
        Assert.Empty(objects.OfType<V1StatefulSet>());
        Assert.False(policies.Allows(app, NetworkEndpoint.External("10.96.0.1"), 443));
        Assert.False(policies.Allows(app, Elsewhere, PostgreSql));
    }

    [Fact]
    public async Task OnK3sTraefikInKubeSystemReachesTheAppAndOtherKubeSystemPodsDoNot()
    {
        var objects = await HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, "ci", "k3s-values.yaml"));
        var policies = Evaluator(objects);
        var app = PodOf(objects.OfType<V1Deployment>().Single().Spec.Template, HelmChartTests.Namespace, "10.42.0.10");
        var traefik = NetworkEndpoint.Pod("kube-system", new Dictionary<string, string> { ["app.kubernetes.io/name"] = "traefik" }, "10.42.0.5");

        Assert.Equal("traefik", objects.OfType<V1Ingress>().Single().Spec.IngressClassName);
        Assert.True(policies.Allows(traefik, app, Http));
        Assert.False(policies.Allows(traefik, app, Metrics));
        Assert.False(policies.Allows(OtherKubeSystemPod, app, Http));
        Assert.False(policies.Allows(IngressController, app, Http)); // ingress-nginx's namespace means nothing here
        Assert.True(policies.Allows(app, Dns, 53, "UDP"));
    }

    [Theory]
    [InlineData("networkPolicy.enabled=false")]
    [InlineData("instances.networkPolicy.enabled=false")]
    public async Task EachSideOfTheIsolationCanBeTurnedOff(string setting)
    {
        var objects = await HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, "ci", "maximal-values.yaml"), "--set", setting);
        var policies = objects.OfType<V1NetworkPolicy>().ToList();

        var release = setting.StartsWith("networkPolicy", StringComparison.Ordinal);
        Assert.Equal(release, policies.All(p => p.Metadata.NamespaceProperty is not null));
        Assert.Equal(!release, policies.All(p => p.Metadata.NamespaceProperty is null));
        Assert.NotEmpty(policies);
    }

    [Theory]
    [InlineData("runtime=kubernetes,instances.volumeSnapshotClassName=snapclass", "networkPolicy.kubernetesApi")]
    [InlineData("controlPlane.mode=external,controlPlane.external.existingSecret=db", "networkPolicy.controlPlane")]
    [InlineData("taidon.oidc.authority=https://sso.example.org,taidon.oidc.clientId=taidon", "networkPolicy.oidc")]
    [InlineData("networkPolicy.git[0].cidr=169.254.169.254/32,networkPolicy.git[0].ports[0]=80", "metadata")]
    public async Task ARenderThatWouldLeaveTheAppCutOffOrOpenToTheMetadataAddressFailsNamingTheValue(string setting, string named)
    {
        var rendered = await HelmChartTests.HelmAsync("template", "taidon", HelmChartTests.Chart, "--set", setting);

        Assert.NotEqual(0, rendered.ExitCode);
        Assert.Contains(named, rendered.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANetworkThatHoldsTheMetadataAddressGetsItAsAnException()
    {
        var objects = await HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, "ci", "default-values.yaml"),
            "--set", "networkPolicy.git[0].cidr=169.254.0.0/16,networkPolicy.git[0].ports[0]=80,networkPolicy.git[1].cidr=10.0.0.0/8,networkPolicy.git[1].ports[0]=80");
        var app = PodOf(objects.OfType<V1Deployment>().Single().Spec.Template, HelmChartTests.Namespace, "10.244.0.10");
        var policies = Evaluator(objects);

        Assert.True(policies.Allows(app, NetworkEndpoint.External("169.254.1.1"), 80));
        Assert.False(policies.Allows(app, NetworkEndpoint.External(Metadata), 80));
        Assert.True(policies.Allows(app, NetworkEndpoint.External("10.1.2.3"), 80));
        // An exception outside its network would be refused by the API server: 10.0.0.0/8 has none.
        var blocks = objects.OfType<V1NetworkPolicy>().SelectMany(p => p.Spec.Egress ?? []).SelectMany(r => r.To ?? []).Select(t => t.IpBlock).OfType<V1IPBlock>().ToList();
        Assert.Null(Assert.Single(blocks, b => b.Cidr == "10.0.0.0/8").Except);
    }

    [Fact]
    public void TheEvaluatorReadsBothSelectorsInOnePeerAsAndAndTwoPeersAsOr()
    {
        var web = new Dictionary<string, string> { ["app"] = "web" };
        V1NetworkPolicy Policy(params V1NetworkPolicyPeer[] peers) => new()
        {
            Metadata = new V1ObjectMeta { Name = "db", NamespaceProperty = "a" },
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "db" } },
                PolicyTypes = ["Ingress"],
                Ingress = [new V1NetworkPolicyIngressRule { FromProperty = peers }],
            },
        };
        var namespaceB = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "b" } };
        var webPods = new V1LabelSelector { MatchLabels = web };
        var db = NetworkEndpoint.Pod("a", new Dictionary<string, string> { ["app"] = "db" }, "10.0.0.1");
        var webInB = NetworkEndpoint.Pod("b", web, "10.0.0.2");
        var otherInB = NetworkEndpoint.Pod("b", new Dictionary<string, string> { ["app"] = "other" }, "10.0.0.3");
        var webInA = NetworkEndpoint.Pod("a", web, "10.0.0.4");

        var and = new NetworkPolicyEvaluator([Policy(new V1NetworkPolicyPeer { NamespaceSelector = namespaceB, PodSelector = webPods })]);
        Assert.True(and.Allows(webInB, db, 5432));
        Assert.False(and.Allows(otherInB, db, 5432));
        Assert.False(and.Allows(webInA, db, 5432));

        var or = new NetworkPolicyEvaluator([Policy(new V1NetworkPolicyPeer { NamespaceSelector = namespaceB }, new V1NetworkPolicyPeer { PodSelector = webPods })]);
        Assert.True(or.Allows(otherInB, db, 5432));
        Assert.True(or.Allows(webInA, db, 5432)); // a podSelector alone: the policy's own namespace
        Assert.False(or.Allows(NetworkEndpoint.Pod("c", web, "10.0.0.5"), db, 5432));
        Assert.True(or.Allows(db, webInB, 80)); // db's egress is not isolated, webInB's ingress neither
    }

    // The maximal values: runtime kubernetes, the bundled database, an ingress controller and Prometheus picked by
    // namespace and pods, an API server, Git and OIDC hosts, and extra egress to 0.0.0.0/0 on one port.
    private static async Task<Cluster> MaximalAsync()
    {
        var objects = await HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, "ci", "maximal-values.yaml"));
        var instances = objects.OfType<V1Namespace>().Single().Metadata.Name;
        return new Cluster(
            Evaluator(objects),
            PodOf(objects.OfType<V1Deployment>().Single().Spec.Template, HelmChartTests.Namespace, "10.244.0.10"),
            PodOf(objects.OfType<V1StatefulSet>().Single().Spec.Template, HelmChartTests.Namespace, "10.244.0.11"),
            NetworkEndpoint.Pod(HelmChartTests.Namespace, objects.OfType<V1Pod>().Single().Metadata.Labels, "10.244.0.12"),
            NetworkEndpoint.Pod(instances, InstanceManifests.InstanceLabels(Guid.NewGuid(), "taidon", "student@example.org", null), "10.244.1.5"),
            NetworkEndpoint.Pod(instances, new Dictionary<string, string> { ["run"] = "debug" }, "10.244.1.6"));
    }

    // The policies of the release's namespace are rendered without one: they get the namespace they are installed in.
    private static NetworkPolicyEvaluator Evaluator(IEnumerable<object> objects) =>
        new(objects.OfType<V1NetworkPolicy>().Select(p =>
        {
            p.Metadata.NamespaceProperty ??= HelmChartTests.Namespace;
            return p;
        }));

    private static NetworkEndpoint PodOf(V1PodTemplateSpec template, string ns, string address) =>
        NetworkEndpoint.Pod(ns, template.Metadata.Labels, address);

    private sealed record Cluster(
        NetworkPolicyEvaluator Policies,
        NetworkEndpoint App,
        NetworkEndpoint Database,
        NetworkEndpoint HelmTest,
        NetworkEndpoint Instance,
        NetworkEndpoint UnlabelledInInstances);
}
