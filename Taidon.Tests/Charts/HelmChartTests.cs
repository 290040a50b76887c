using System.Diagnostics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Taidon.Infrastructure.Git;
using Taidon.Tests.Support;

namespace Taidon.Tests.Charts;

/// <summary>
/// The Helm chart, checked without a cluster: helm lint --strict and helm template with every CI values
/// file; each rendered object is loaded with KubernetesClient's strict YAML loader (an unknown field
/// fails); the schema refuses wrong values; the Kubernetes runtime gets exactly its rights and isolation in the
/// instances' namespace. Helm comes from scripts/install-helm.sh (TAIDON_HELM overrides).
/// </summary>
public sealed class HelmChartTests
{
    internal const string Namespace = "taidon";
    private static readonly string Root = Repository.Root;
    internal static readonly string Chart = Path.Combine(Root, "charts", "taidon");

    // The labels the Kubernetes runtime puts on every instance pod of the release "taidon" (its contract with the chart).
    private static readonly Dictionary<string, string> InstancePodLabels =
        Taidon.Infrastructure.KubernetesRuntime.InstanceManifests.InstanceLabels(Guid.Empty, "taidon", null, null);

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

        var objects = await RenderAsync(values);

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
    [InlineData("ci/minikube-values.yaml")]
    [InlineData("ci/maximal-values.yaml")]
    [InlineData("ci/school-values.yaml")]
    public async Task TheKubernetesRuntimeGetsExactlyItsRightsAndIsolationInTheInstancesNamespace(string valuesFile)
    {
        var objects = await RenderAsync(Path.Combine(Chart, valuesFile));

        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        var pod = deployment.Spec.Template.Spec;
        var env = (pod.Containers.Single().Env ?? []).Where(e => e.Value is not null).ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal("Kubernetes", env["Taidon__Runtime__Kind"]);
        var instances = env["Taidon__Kubernetes__Namespace"];
        Assert.Matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", instances);
        Assert.NotEqual(Namespace, instances);
        Assert.Matches("^[a-z0-9][-a-z0-9.]*$", env["Taidon__Kubernetes__VolumeSnapshotClassName"]);
        Assert.Equal("taidon", env["Taidon__Kubernetes__Release"]); // the runtime's objects carry the release; the NetworkPolicy selects by it
        Assert.Equal(valuesFile.Contains("maximal", StringComparison.Ordinal), env.GetValueOrDefault("Taidon__Kubernetes__ImagePullSecrets__0") == "mirror-login");
        Assert.True(pod.AutomountServiceAccountToken);

        var instancesNamespace = Assert.Single(objects.OfType<V1Namespace>());
        Assert.Equal(instances, instancesNamespace.Metadata.Name);
        Assert.Equal("restricted", instancesNamespace.GetLabel("pod-security.kubernetes.io/enforce"));

        // Exactly what the runtime does, in the instances' namespace only: no cluster-wide rights.
        Assert.Empty(objects.OfType<V1ClusterRole>());
        Assert.Empty(objects.OfType<V1ClusterRoleBinding>());
        var role = Assert.Single(objects.OfType<V1Role>());
        Assert.Equal(instances, role.Metadata.NamespaceProperty);
        Assert.All(role.Rules, r => Assert.Null(r.ResourceNames));
        string[] rights =
        [
            "/persistentvolumeclaims: create,delete,list",
            "/pods: create,delete,get,list,patch,watch",
            "/secrets: create,delete,get,list,patch,update,watch",
            "snapshot.storage.k8s.io/volumesnapshots: create,delete,list,watch",
        ];
        Assert.Equal(rights, Rights(role));

        var binding = Assert.Single(objects.OfType<V1RoleBinding>());
        Assert.Equal(instances, binding.Metadata.NamespaceProperty);
        Assert.Equal("rbac.authorization.k8s.io", binding.RoleRef.ApiGroup);
        Assert.Equal("Role", binding.RoleRef.Kind);
        Assert.Equal(role.Metadata.Name, binding.RoleRef.Name);
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal("ServiceAccount", subject.Kind);
        Assert.Equal(pod.ServiceAccountName, subject.Name);
        Assert.Equal(Namespace, subject.NamespaceProperty);

        // Instances take TCP 5432 from the app's pods in the release's namespace, and send nothing (what the
        // policies together allow: HelmChartNetworkPolicyTests).
        var policy = Assert.Single(objects.OfType<V1NetworkPolicy>(), p => p.Metadata.Name == "taidon-instances");
        Assert.Equal(instances, policy.Metadata.NamespaceProperty);
        Assert.NotEmpty(policy.Spec.PodSelector.MatchLabels);
        Assert.All(policy.Spec.PodSelector.MatchLabels, l => Assert.Equal(InstancePodLabels.GetValueOrDefault(l.Key), l.Value));
        Assert.Null(policy.Spec.PodSelector.MatchExpressions);
        Assert.Equal(["Egress", "Ingress"], policy.Spec.PolicyTypes.Order(StringComparer.Ordinal));
        Assert.Empty(policy.Spec.Egress ?? []);
        var ingress = Assert.Single(policy.Spec.Ingress);
        var peer = Assert.Single(ingress.FromProperty);
        Assert.Null(peer.IpBlock);
        Assert.Equal(Labels(deployment.Spec.Selector.MatchLabels), Labels(peer.PodSelector.MatchLabels));
        Assert.Equal($"kubernetes.io/metadata.name={Namespace}", Labels(peer.NamespaceSelector.MatchLabels));
        var port = Assert.Single(ingress.Ports);
        Assert.Equal("TCP", port.Protocol);
        Assert.Equal("5432", port.Port.Value);

        var quota = Assert.Single(objects.OfType<V1ResourceQuota>());
        Assert.Equal(instances, quota.Metadata.NamespaceProperty);
        Assert.Contains("pods", quota.Spec.Hard);
        Assert.Contains("count/volumesnapshots.snapshot.storage.k8s.io", quota.Spec.Hard);
        var limits = Assert.Single(objects.OfType<V1LimitRange>());
        Assert.Equal(instances, limits.Metadata.NamespaceProperty);
        Assert.Equal(["Container", "PersistentVolumeClaim"], limits.Spec.Limits.Select(l => l.Type).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("ci/default-values.yaml")]
    [InlineData("ci/embedded-values.yaml")]
    [InlineData("ci/external-db-values.yaml")]
    [InlineData("ci/bundled-existing-secret-values.yaml")]
    public async Task TheEmbeddedRuntimeRendersNoInstancesObjectsAndMountsNoApiToken(string valuesFile)
    {
        var objects = await RenderAsync(Path.Combine(Chart, valuesFile));

        var pod = Assert.Single(objects.OfType<V1Deployment>()).Spec.Template.Spec;
        var env = pod.Containers.Single().Env ?? [];
        Assert.Equal("Embedded", Assert.Single(env, e => e.Name == "Taidon__Runtime__Kind").Value);
        Assert.DoesNotContain(env, e => e.Name.StartsWith("Taidon__Kubernetes__", StringComparison.Ordinal));
        Assert.False(pod.AutomountServiceAccountToken);
        Assert.Empty(objects.OfType<V1Namespace>());
        Assert.Empty(objects.OfType<V1Role>());
        Assert.Empty(objects.OfType<V1RoleBinding>());
        Assert.All(objects.OfType<V1NetworkPolicy>(), p => Assert.Null(p.Metadata.NamespaceProperty)); // the release's own, none for instances
        Assert.Empty(objects.OfType<V1ResourceQuota>());
        Assert.Empty(objects.OfType<V1LimitRange>());
    }

    [Fact]
    public async Task TheMetricsAreServedOnTheirOwnPortWhichTheIngressNeverRoutesTo()
    {
        var values = Path.Combine(Chart, "ci", "maximal-values.yaml");
        var objects = await RenderAsync(values);

        var app = Assert.Single(objects.OfType<V1Deployment>()).Spec.Template.Spec.Containers.Single();
        Assert.Equal("9090", Assert.Single(app.Env, e => e.Name == "Taidon__Metrics__Port").Value);
        Assert.Equal("8080;9090", Assert.Single(app.Env, e => e.Name == "ASPNETCORE_HTTP_PORTS").Value);
        Assert.Contains(app.Ports, p => p.Name == "metrics" && p.ContainerPort == 9090);
        // The app's Service may be a NodePort or LoadBalancer; the metrics have a ClusterIP Service of their own.
        var service = Assert.Single(objects.OfType<V1Service>(), s => s.Spec.Ports.Any(p => p.Name == "http"));
        Assert.DoesNotContain(service.Spec.Ports, p => p.Name == "metrics" || p.Port == 9090);
        var metricsService = Assert.Single(objects.OfType<V1Service>(), s => s.Metadata.Name == "taidon-metrics");
        Assert.Equal("ClusterIP", metricsService.Spec.Type);
        Assert.Equal("metrics", metricsService.Metadata.Labels["app.kubernetes.io/component"]);
        Assert.Equal(service.Spec.Selector, metricsService.Spec.Selector);
        var port = Assert.Single(metricsService.Spec.Ports);
        Assert.True(port.Name == "metrics" && port.Port == 9090 && port.TargetPort.Value == "metrics");
        var ingress = Assert.Single(objects.OfType<V1Ingress>());
        Assert.All(ingress.Spec.Rules.SelectMany(r => r.Http.Paths), path => Assert.Equal("http", path.Backend.Service.Port.Name));

        var rendered = await HelmAsync("template", "taidon", Chart, "-f", values, "--namespace", Namespace);
        Assert.Matches(@"kind: ServiceMonitor[\s\S]*app.kubernetes.io/component: metrics\s+namespaceSelector[\s\S]*- port: metrics\s+path: /metrics", rendered.Output);
        // Prometheus names the job after the scraped Service: the alerts select that job.
        Assert.Contains("job=\"taidon-metrics\"", rendered.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("job=\"taidon\"", rendered.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheKeyRingCertificateComesFromATlsSecretMountedReadOnly()
    {
        var maximal = Assert.Single(
            (await RenderAsync(Path.Combine(Chart, "ci", "maximal-values.yaml"))).OfType<V1Deployment>()).Spec.Template.Spec;
        var app = maximal.Containers.Single();
        var mount = Assert.Single(app.VolumeMounts, m => m.Name == "data-protection");
        Assert.True(mount.ReadOnlyProperty);
        Assert.Equal($"{mount.MountPath}/tls.crt", Assert.Single(app.Env, e => e.Name == "Taidon__DataProtection__CertificateFile").Value);
        Assert.Equal($"{mount.MountPath}/tls.key", Assert.Single(app.Env, e => e.Name == "Taidon__DataProtection__KeyFile").Value);
        Assert.Equal("taidon-keys", Assert.Single(maximal.Volumes, v => v.Name == "data-protection").Secret.SecretName);

        var byDefault = Assert.Single((await RenderAsync(Path.Combine(Chart, "ci", "default-values.yaml"))).OfType<V1Deployment>()).Spec.Template.Spec;
        Assert.DoesNotContain(byDefault.Containers.Single().Env, e => e.Name.StartsWith("Taidon__DataProtection__", StringComparison.Ordinal));
        Assert.DoesNotContain(byDefault.Volumes, v => v.Name == "data-protection");
    }

    [Fact]
    public async Task ForwardedHeadersAreBelievedOnlyFromTheProxiesTheValuesName()
    {
        var maximal = Assert.Single((await RenderAsync(Path.Combine(Chart, "ci", "maximal-values.yaml"))).OfType<V1Deployment>()).Spec.Template.Spec.Containers.Single().Env;
        Assert.Equal("10.244.0.0/16", Assert.Single(maximal, e => e.Name == "Taidon__ForwardedHeaders__KnownNetworks__0").Value);
        Assert.Equal("10.96.0.15", Assert.Single(maximal, e => e.Name == "Taidon__ForwardedHeaders__KnownProxies__0").Value);

        // By default no one: ASPNETCORE_FORWARDEDHEADERS_ENABLED, set before, believed every peer.
        var byDefault = Assert.Single((await RenderAsync(Path.Combine(Chart, "ci", "default-values.yaml"))).OfType<V1Deployment>()).Spec.Template.Spec.Containers.Single().Env;
        Assert.DoesNotContain(byDefault, e => e.Name.StartsWith("Taidon__ForwardedHeaders__", StringComparison.Ordinal) || e.Name == "ASPNETCORE_FORWARDEDHEADERS_ENABLED");
    }

    [Theory]
    [InlineData("minikube")]
    public void TheValuesInCiAreTheOnesTheReadmeInstalls(string name)
    {
        Assert.Equal(File.ReadAllText(Path.Combine(Chart, $"values-{name}.yaml")), File.ReadAllText(Path.Combine(Chart, "ci", $"{name}-values.yaml")));
    }

    [Theory]
    [InlineData("school")]
    [InlineData("k3s")]
    public void TheValuesInCiAreTheReadmesWithTheApiServerThatAnInstallLooksUp(string name)
    {
        // Rendered without a cluster, the API server's address cannot be looked up: the copy names one.
        var installed = File.ReadAllText(Path.Combine(Chart, $"values-{name}.yaml"));
        Assert.Contains("  kubernetesApi: []\n", installed, StringComparison.Ordinal);
        Assert.Equal(
            installed.Replace("  kubernetesApi: []\n", "  kubernetesApi:\n    - cidr: 10.0.0.10/32\n      ports: [6443]\n", StringComparison.Ordinal),
            File.ReadAllText(Path.Combine(Chart, "ci", $"{name}-values.yaml")));
    }

    [Fact]
    public async Task OnK3sTheLayersAreArchivesOnAClaimOfTheirOwnRecordedInConfigMaps()
    {
        var objects = await RenderAsync(Path.Combine(Chart, "ci", "k3s-values.yaml"));

        var env = Assert.Single(objects.OfType<V1Deployment>()).Spec.Template.Spec.Containers.Single().Env.Where(e => e.Value is not null).ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal("Kubernetes", env["Taidon__Runtime__Kind"]);
        Assert.Equal("Archives", env["Taidon__Kubernetes__Layers"]);
        Assert.DoesNotContain("Taidon__Kubernetes__VolumeSnapshotClassName", env.Keys);
        var claim = Assert.Single(objects.OfType<V1PersistentVolumeClaim>(), c => c.Metadata.Name == env["Taidon__Kubernetes__LayersClaim"]);
        Assert.Equal(env["Taidon__Kubernetes__Namespace"], claim.Metadata.NamespaceProperty);
        Assert.Equal(["ReadWriteOnce"], claim.Spec.AccessModes);
        Assert.Equal("local-path", claim.Spec.StorageClassName);
        Assert.Equal("keep", claim.GetAnnotation("helm.sh/resource-policy"));
        Assert.Equal("local-path", env["Taidon__Kubernetes__StorageClassName"]);

        Assert.Equal(
            ["/configmaps: create,delete,list,watch", "/persistentvolumeclaims: create,delete,get,list", "/pods: create,delete,get,list,patch,watch", "/secrets: create,delete,get,list,patch,update,watch"],
            Rights(Assert.Single(objects.OfType<V1Role>())));

        // What the app makes of these settings: archive layers on that claim.
        var options = new ConfigurationBuilder().AddInMemoryCollection(env.Select(e => KeyValuePair.Create(e.Key.Replace("__", ":", StringComparison.Ordinal), (string?)e.Value))).Build()
            .GetSection(Taidon.Infrastructure.KubernetesRuntime.KubernetesOptions.SectionName).Get<Taidon.Infrastructure.KubernetesRuntime.KubernetesOptions>()!;
        Assert.Equal(Taidon.Infrastructure.KubernetesRuntime.LayerKind.Archives, options.LayerMode);
        Assert.Equal(claim.Metadata.Name, options.LayersClaim);
    }

    [Fact]
    public async Task SnapshotLayersGrantNoConfigMapsAndMakeNoLayersClaimAndArchivesCanBeChosenBesideASnapshotClass()
    {
        var minikube = await RenderAsync(Path.Combine(Chart, "ci", "minikube-values.yaml"));
        Assert.DoesNotContain(Rights(Assert.Single(minikube.OfType<V1Role>())), r => r.StartsWith("/configmaps", StringComparison.Ordinal));
        Assert.DoesNotContain(minikube.OfType<V1PersistentVolumeClaim>(), c => c.Metadata.Name == "taidon-layers");
        Assert.Equal("Snapshots", Assert.Single(Assert.Single(minikube.OfType<V1Deployment>()).Spec.Template.Spec.Containers.Single().Env, e => e.Name == "Taidon__Kubernetes__Layers").Value);

        var archives = await RenderAsync(Path.Combine(Chart, "ci", "minikube-values.yaml"), "--set", "instances.layers=archives");
        Assert.Contains("/configmaps: create,delete,list,watch", Rights(Assert.Single(archives.OfType<V1Role>())));
        Assert.DoesNotContain(Rights(Assert.Single(archives.OfType<V1Role>())), r => r.Contains("volumesnapshots", StringComparison.Ordinal));
        Assert.Equal(["ReadWriteMany"], Assert.Single(archives.OfType<V1PersistentVolumeClaim>(), c => c.Metadata.Name == "taidon-layers").Spec.AccessModes);
    }

    private static List<string> Rights(V1Role role) =>
        [.. role.Rules.SelectMany(r => r.ApiGroups.SelectMany(g => r.Resources.Select(resource => $"{g}/{resource}: {string.Join(',', r.Verbs.Order(StringComparer.Ordinal))}"))).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task TheSchoolQuotaHoldsWhatItsSettingsLetTheAppCreate()
    {
        var objects = await RenderAsync(Path.Combine(Chart, "ci", "school-values.yaml"));
        var env = Assert.Single(objects.OfType<V1Deployment>()).Spec.Template.Spec.Containers.Single().Env.Where(e => e.Value is not null).ToDictionary(e => e.Name, e => e.Value);
        var hard = Assert.Single(objects.OfType<V1ResourceQuota>()).Spec.Hard;

        // Every instance that may exist has its claim; the warm pool fits in the pods.
        Assert.True(int.Parse(env["Taidon__Instances__MaxTotal"], System.Globalization.CultureInfo.InvariantCulture) <= hard["persistentvolumeclaims"].ToInt32());
        Assert.True(int.Parse(env["Taidon__Instances__WarmPoolSize"], System.Globalization.CultureInfo.InvariantCulture) < hard["pods"].ToInt32());
        Assert.Single(objects.OfType<V1DaemonSet>());
    }

    [Theory]
    [InlineData("runtime=foo", "runtime")]
    [InlineData("replicaCount=-1", "replicaCount")]
    [InlineData("taidon.logFormat=xml", "logFormat")]
    [InlineData("runtime=kubernetes,instances.layers=snapshots", "volumeSnapshotClassName")]
    [InlineData("instances.layers=tapes", "layers")]
    [InlineData("instances.archives.accessModes[0]=ReadOnlyMany", "accessModes")]
    [InlineData("runtime=kubernetes,instances.volumeSnapshotClassName=csi-hostpath-snapclass,replicaCount=2", "replicaCount")]
    [InlineData("instances.startTimeoutSeconds=5", "startTimeoutSeconds")]
    [InlineData("monitoring.metricsPort=8080", "metricsPort")]
    [InlineData("instances.image.pullSecrets[0]=Mirror_Login", "pullSecrets")]
    [InlineData("instances.namespace=Instances_Of_Taidon", "namespace")]
    [InlineData("instances.tolerations[0].key=pool,instances.tolerations[0].tolerationSeconds=60", "tolerationSeconds")]
    [InlineData("taidon.git.allowedHosts[0]=http://gitea.school.internal", "allowedHosts")]
    [InlineData("forwardedHeaders=true", "forwardedHeaders")]
    [InlineData("forwardedHeaders.knownNetworks[0]=everyone", "knownNetworks")]
    public async Task TheSchemaRefusesAWrongValueNamingIt(string setting, string named)
    {
        var rendered = await HelmAsync("template", "taidon", Chart, "--set", setting);

        Assert.NotEqual(0, rendered.ExitCode);
        Assert.Contains(named, rendered.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheGitSettingsReachTheAppWithAListAsIndexedEntries()
    {
        var app = Assert.Single((await RenderAsync(Path.Combine(Chart, "ci", "maximal-values.yaml"))).OfType<V1Deployment>()).Spec.Template.Spec.Containers.Single();

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(app.Env.Where(e => e.Value is not null).Select(e => KeyValuePair.Create(e.Name.Replace("__", ":", StringComparison.Ordinal), (string?)e.Value)))
            .Build();
        var git = configuration.GetSection(GitOptions.SectionName).Get<GitOptions>()!;
        Assert.Equal(["gitea.tools.svc.cluster.local:3000", "10.0.0.5"], git.AllowedHosts);
        Assert.Equal(120, git.TimeoutSeconds);
        Assert.Equal(536870912, git.MaxRepositoryBytes);
    }

    // Renders the chart into the namespace "taidon" (more arguments such as --set after the values) and loads
    // every built-in object strictly (an unknown field fails).
    internal static async Task<List<object>> RenderAsync(string values, params string[] more)
    {
        var rendered = await HelmAsync(["template", "taidon", Chart, "-f", values, "--namespace", Namespace, .. more]);
        Assert.True(rendered.ExitCode == 0, rendered.Output);

        var documents = rendered.Output.Split("\n---", StringSplitOptions.RemoveEmptyEntries)
            .Where(d => d.Contains("kind:", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(documents);
        var builtIn = documents.Where(d => !d.Contains("monitoring.coreos.com", StringComparison.Ordinal)).ToList();
        return builtIn.SelectMany(d => KubernetesYaml.LoadAllFromString(d, strict: true)).ToList();
    }

    private static string Labels(IDictionary<string, string> labels) =>
        string.Join(',', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    internal static async Task<(int ExitCode, string Output)> HelmAsync(params string[] arguments)
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
