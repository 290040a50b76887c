using k8s.Models;

namespace Taidon.Tests.Charts;

/// <summary>
/// Several app pods: allowed only with the Kubernetes runtime, the control plane outside the pods and a shared
/// (ReadWriteMany) data volume; then rolling updates one pod at a time, a PodDisruptionBudget over the web pods,
/// and cookie affinity for ingress-nginx (on the Ingress) and Traefik (on the Service), where the values'
/// own annotations win. Everything else keeps one pod and Recreate.
/// </summary>
public sealed class HelmChartReplicaTests
{
    private static readonly string School = Path.Combine(HelmChartTests.Chart, "ci", "school-values.yaml");

    // The Kubernetes runtime with the bundled database and an API server address (rendered without a cluster).
    private static readonly string[] Kubernetes =
    [
        "--set", "runtime=kubernetes,instances.volumeSnapshotClassName=snapclass",
        "--set", "networkPolicy.kubernetesApi[0].cidr=10.96.0.1/32,networkPolicy.kubernetesApi[0].ports[0]=443",
    ];

    [Fact]
    public async Task TheSchoolRunsTwoPodsThatUpdateAndDrainOneAtATimeOnASharedVolume()
    {
        var objects = await HelmChartTests.RenderAsync(School);

        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        Assert.Equal(2, deployment.Spec.Replicas);
        Assert.Equal("RollingUpdate", deployment.Spec.Strategy.Type);
        Assert.Equal("0", deployment.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
        Assert.Equal("1", deployment.Spec.Strategy.RollingUpdate.MaxSurge.Value);
        var claim = Assert.Single(objects.OfType<V1PersistentVolumeClaim>());
        Assert.Equal(["ReadWriteMany"], claim.Spec.AccessModes);
        Assert.Equal(claim.Metadata.Name, Assert.Single(deployment.Spec.Template.Spec.Volumes, v => v.Name == "data").PersistentVolumeClaim.ClaimName);

        // The budget selects the web pods and nothing else: the Deployment's selector, which the database's pods do not match.
        var budget = Assert.Single(objects.OfType<V1PodDisruptionBudget>());
        Assert.Equal("1", budget.Spec.MinAvailable.Value);
        Assert.Null(budget.Spec.MaxUnavailable);
        Assert.Null(budget.Spec.Selector.MatchExpressions);
        Assert.Equal(Labels(deployment.Spec.Selector.MatchLabels), Labels(budget.Spec.Selector.MatchLabels));
        Assert.Equal("web", budget.Spec.Selector.MatchLabels["app.kubernetes.io/component"]);
        Assert.True(Selects(budget.Spec.Selector.MatchLabels, deployment.Spec.Template.Metadata.Labels));
        var database = Assert.Single(objects.OfType<V1StatefulSet>());
        Assert.False(Selects(budget.Spec.Selector.MatchLabels, database.Spec.Template.Metadata.Labels));

        // A stopping pod serves a few seconds more while the ingress forgets it, within its grace period.
        var pod = deployment.Spec.Template.Spec;
        var preStop = pod.Containers.Single().Lifecycle.PreStop.Exec.Command;
        Assert.Equal(["sleep", "5"], preStop);
        Assert.True(pod.TerminationGracePeriodSeconds > 5);
    }

    [Fact]
    public async Task TheIngressAndTheServiceKeepEachBrowserOnItsPodWithACookie()
    {
        var objects = await HelmChartTests.RenderAsync(School);

        var ingress = Assert.Single(objects.OfType<V1Ingress>()).Metadata.Annotations;
        Assert.Equal("cookie", ingress["nginx.ingress.kubernetes.io/affinity"]);
        Assert.Equal("persistent", ingress["nginx.ingress.kubernetes.io/affinity-mode"]);
        Assert.Equal("taidon-affinity", ingress["nginx.ingress.kubernetes.io/session-cookie-name"]);
        Assert.Equal("Lax", ingress["nginx.ingress.kubernetes.io/session-cookie-samesite"]);
        Assert.Equal("true", ingress["nginx.ingress.kubernetes.io/session-cookie-secure"]); // the school's Ingress has TLS
        Assert.Equal("3600", ingress["nginx.ingress.kubernetes.io/proxy-read-timeout"]); // the values' own stay

        var service = AppService(objects).Metadata.Annotations;
        Assert.Equal("true", service["traefik.ingress.kubernetes.io/service.sticky.cookie"]);
        Assert.Equal("taidon-affinity", service["traefik.ingress.kubernetes.io/service.sticky.cookie.name"]);
        Assert.Equal("lax", service["traefik.ingress.kubernetes.io/service.sticky.cookie.samesite"]);
        Assert.Equal("true", service["traefik.ingress.kubernetes.io/service.sticky.cookie.httponly"]);
        Assert.Equal("true", service["traefik.ingress.kubernetes.io/service.sticky.cookie.secure"]);
        // The metrics Service is scraped, not routed to by an ingress.
        Assert.Null(Assert.Single(objects.OfType<V1Service>(), s => s.Metadata.Name == "taidon-metrics").Metadata.Annotations);

        // Without TLS the cookie is not marked secure (the browser would not send it back over http).
        var plain = await HelmChartTests.RenderAsync(School, "--set", "ingress.tls=null");
        Assert.DoesNotContain("nginx.ingress.kubernetes.io/session-cookie-secure", Assert.Single(plain.OfType<V1Ingress>()).Metadata.Annotations.Keys);
        Assert.DoesNotContain("traefik.ingress.kubernetes.io/service.sticky.cookie.secure", AppService(plain).Metadata.Annotations.Keys);
        Assert.Equal("cookie", Assert.Single(plain.OfType<V1Ingress>()).Metadata.Annotations["nginx.ingress.kubernetes.io/affinity"]);
    }

    [Fact]
    public async Task TheValuesOwnAnnotationsWinOverTheChartsAndStickySessionsCanBeTurnedOff()
    {
        string[] own =
        [
            "--set-string", @"ingress.annotations.nginx\.ingress\.kubernetes\.io/session-cookie-name=school-route",
            "--set-string", @"service.annotations.traefik\.ingress\.kubernetes\.io/service\.sticky\.cookie\.samesite=strict",
        ];
        var objects = await HelmChartTests.RenderAsync(School, own);

        var ingress = Assert.Single(objects.OfType<V1Ingress>()).Metadata.Annotations;
        Assert.Equal("school-route", ingress["nginx.ingress.kubernetes.io/session-cookie-name"]);
        Assert.Equal("cookie", ingress["nginx.ingress.kubernetes.io/affinity"]);
        var service = AppService(objects).Metadata.Annotations;
        Assert.Equal("strict", service["traefik.ingress.kubernetes.io/service.sticky.cookie.samesite"]);
        Assert.Equal("taidon-affinity", service["traefik.ingress.kubernetes.io/service.sticky.cookie.name"]);

        // Off: the chart adds nothing, and the values' own annotations are all that is left.
        var off = await HelmChartTests.RenderAsync(School, [.. own, "--set", "ingress.stickySessions=false"]);
        Assert.Equal(
            ["nginx.ingress.kubernetes.io/proxy-body-size", "nginx.ingress.kubernetes.io/proxy-read-timeout", "nginx.ingress.kubernetes.io/proxy-send-timeout", "nginx.ingress.kubernetes.io/session-cookie-name"],
            Assert.Single(off.OfType<V1Ingress>()).Metadata.Annotations.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["traefik.ingress.kubernetes.io/service.sticky.cookie.samesite"], AppService(off).Metadata.Annotations.Keys);
    }

    [Fact]
    public async Task AnExistingClaimSaidToBeSharedTakesSeveralReplicas()
    {
        var objects = await RenderAsync([.. Kubernetes, "--set", "replicaCount=3,persistence.existingClaim=projects-rwx,persistence.shared=true,podDisruptionBudget.minAvailable=2"]);

        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        Assert.Equal(3, deployment.Spec.Replicas);
        Assert.Equal("RollingUpdate", deployment.Spec.Strategy.Type);
        Assert.Equal("projects-rwx", Assert.Single(deployment.Spec.Template.Spec.Volumes, v => v.Name == "data").PersistentVolumeClaim.ClaimName);
        Assert.Empty(objects.OfType<V1PersistentVolumeClaim>());
        Assert.Equal("2", Assert.Single(objects.OfType<V1PodDisruptionBudget>()).Spec.MinAvailable.Value);
    }

    [Fact]
    public async Task OneReplicaOnASharedVolumeStillRollsSoAnUpgradeKeepsTheClassWorkingButHasNoBudget()
    {
        var objects = await RenderAsync([.. Kubernetes, "--set", "persistence.accessModes[0]=ReadWriteMany"]);

        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        Assert.Equal(1, deployment.Spec.Replicas);
        Assert.Equal("RollingUpdate", deployment.Spec.Strategy.Type);
        Assert.Equal("0", deployment.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
        Assert.Empty(objects.OfType<V1PodDisruptionBudget>());
    }

    [Theory]
    [InlineData("ci/default-values.yaml")]
    [InlineData("ci/embedded-values.yaml")]
    [InlineData("ci/k3s-values.yaml")]
    [InlineData("ci/minikube-values.yaml")]
    [InlineData("ci/maximal-values.yaml")]
    public async Task OnePodThatOwnsItsVolumeIsRecreatedAndHasNoBudget(string valuesFile)
    {
        var objects = await HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, valuesFile));

        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        Assert.Equal(1, deployment.Spec.Replicas);
        Assert.Equal("Recreate", deployment.Spec.Strategy.Type);
        Assert.Null(deployment.Spec.Strategy.RollingUpdate);
        Assert.Empty(objects.OfType<V1PodDisruptionBudget>());
    }

    [Fact]
    public async Task TraefikOnK3sGetsItsStickyCookieOnTheServiceWithoutTls()
    {
        var objects = await HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, "ci", "k3s-values.yaml"));

        var service = AppService(objects).Metadata.Annotations;
        Assert.Equal("true", service["traefik.ingress.kubernetes.io/service.sticky.cookie"]);
        Assert.DoesNotContain("traefik.ingress.kubernetes.io/service.sticky.cookie.secure", service.Keys);

        // No Ingress, no cookie: the Service is reached by port-forward or NodePort.
        var byDefault = await HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, "ci", "default-values.yaml"));
        Assert.Null(AppService(byDefault).Metadata.Annotations);
    }

    [Fact]
    public async Task ThePreStopSleepCanBeTurnedOffAndMustEndWithinTheGracePeriod()
    {
        var none = await HelmChartTests.RenderAsync(School, "--set", "lifecycle.preStopSleepSeconds=0");
        Assert.Null(Assert.Single(none.OfType<V1Deployment>()).Spec.Template.Spec.Containers.Single().Lifecycle);

        var longer = await HelmChartTests.RenderAsync(School, "--set", "lifecycle.preStopSleepSeconds=20,terminationGracePeriodSeconds=90");
        var pod = Assert.Single(longer.OfType<V1Deployment>()).Spec.Template.Spec;
        Assert.Equal(["sleep", "20"], pod.Containers.Single().Lifecycle.PreStop.Exec.Command);
        Assert.Equal(90, pod.TerminationGracePeriodSeconds);
    }

    [Theory]
    [InlineData("replicaCount=2,runtime=embedded", "replicaCount 2 needs runtime kubernetes")]
    [InlineData("replicaCount=2", "persistence.accessModes is [\"ReadWriteOnce\"]: set persistence.accessModes [ReadWriteMany]")]
    [InlineData("replicaCount=2,persistence.enabled=false", "persistence.enabled is false")]
    [InlineData("replicaCount=2,persistence.existingClaim=projects", "persistence.existingClaim \"projects\" is not said to be shared")]
    [InlineData("replicaCount=2,persistence.existingClaim=projects,persistence.accessModes[0]=ReadWriteMany", "set persistence.shared: true")]
    [InlineData("replicaCount=2,persistence.existingClaim=projects,persistence.shared=true,persistence.enabled=false", "persistence.enabled is false")]
    [InlineData("replicaCount=2,persistence.accessModes[0]=ReadWriteMany,controlPlane.mode=embedded", "controlPlane.mode embedded")]
    [InlineData("lifecycle.preStopSleepSeconds=60", "lifecycle.preStopSleepSeconds (60) must be less than terminationGracePeriodSeconds (60)")]
    [InlineData("podDisruptionBudget.minAvailable=half", "podDisruptionBudget.minAvailable")]
    public async Task SeveralReplicasWithoutWhatTheyNeedAreRefusedNamingTheSetting(string setting, string message)
    {
        var rendered = await HelmChartTests.HelmAsync(["template", "taidon", HelmChartTests.Chart, "--namespace", HelmChartTests.Namespace, .. Kubernetes, "--set", setting]);

        Assert.NotEqual(0, rendered.ExitCode);
        Assert.Contains(message, rendered.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSchoolValuesWithAReadWriteOnceVolumeAreRefused()
    {
        var rendered = await HelmChartTests.HelmAsync("template", "taidon", HelmChartTests.Chart, "-f", School, "--namespace", HelmChartTests.Namespace, "--set", "persistence.accessModes[0]=ReadWriteOnce");

        Assert.NotEqual(0, rendered.ExitCode);
        Assert.Contains("replicaCount 2 needs the data volume shared", rendered.Output, StringComparison.Ordinal);
    }

    // Renders the chart's defaults with more arguments, as HelmChartTests.RenderAsync does a values file.
    private static Task<List<object>> RenderAsync(string[] arguments) =>
        HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, "values.yaml"), arguments);

    private static V1Service AppService(List<object> objects) =>
        Assert.Single(objects.OfType<V1Service>(), s => s.Spec.Ports.Any(p => p.Name == "http"));

    private static bool Selects(IDictionary<string, string> selector, IDictionary<string, string> labels) =>
        selector.All(l => labels.TryGetValue(l.Key, out var value) && value == l.Value);

    private static string Labels(IDictionary<string, string> labels) =>
        string.Join(',', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));
}
