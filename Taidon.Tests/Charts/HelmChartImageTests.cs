using k8s.Models;
using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Tests.Charts;

/// <summary>
/// The images the chart runs, for an on-premises mirror: one registry in front of every image, digests that
/// pin them, PostgreSQL pinned to a minor version, and a pre-puller made of the instances' image alone.
/// </summary>
public sealed class HelmChartImageTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    // The Kubernetes runtime with the bundled database, the pre-puller on, and no registry in the repositories.
    private static readonly string[] Kubernetes =
    [
        "--set", "runtime=kubernetes,instances.volumeSnapshotClassName=snapclass,instances.prePuller.enabled=true",
        "--set", "networkPolicy.kubernetesApi[0].cidr=10.96.0.1/32,networkPolicy.kubernetesApi[0].ports[0]=443",
    ];

    [Fact]
    public async Task EveryImageComesFromTheGlobalRegistryWhenOneIsSet()
    {
        var objects = await RenderAsync([.. Kubernetes, "--set", "global.imageRegistry=mirror.school.internal:5000"]);

        var images = Images(objects);
        Assert.Equal(7, images.Count); // the app, its init container, helm test, the database, the instances' setting, the pre-puller's two
        Assert.All(images, i => Assert.StartsWith("mirror.school.internal:5000/", i.Image, StringComparison.Ordinal));
        Assert.Equal("mirror.school.internal:5000/postgres:15.15", Assert.Single(images, i => i.Where == "database").Image);
        Assert.Equal("mirror.school.internal:5000/postgres:15.15-bookworm", Assert.Single(images, i => i.Where == "Taidon__Kubernetes__InstanceImage").Image);
        Assert.Matches("^mirror.school.internal:5000/taidon:[0-9]", Assert.Single(images, i => i.Where == "app/taidon").Image);
    }

    [Fact]
    public async Task ADigestPinsEachImageAndKeepsItsTagForTheAppToReadTheMajorVersion()
    {
        var objects = await RenderAsync([.. Kubernetes, "--set", $"image.tag=1.2.3,image.digest={Digest},instances.image.digest={Digest},controlPlane.bundled.image.digest={Digest}"]);

        var images = Images(objects);
        Assert.All(images, i => Assert.EndsWith("@" + Digest, i.Image, StringComparison.Ordinal));
        Assert.Equal($"taidon:1.2.3@{Digest}", Assert.Single(images, i => i.Where == "app/taidon").Image);
        Assert.Equal($"postgres:15.15@{Digest}", Assert.Single(images, i => i.Where == "database").Image);
        var instance = Assert.Single(images, i => i.Where == "Taidon__Kubernetes__InstanceImage").Image;
        Assert.Equal($"postgres:15.15-bookworm@{Digest}", instance);
        Assert.Equal(15, EngineIdentityProvider.ImageMajorVersion(instance));
    }

    [Theory]
    [InlineData("ci/default-values.yaml")]
    [InlineData("ci/minikube-values.yaml")]
    public async Task ThePostgreSqlImagesArePinnedToAMinorVersion(string valuesFile)
    {
        var objects = await HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, valuesFile));

        var postgres = Images(objects).Where(i => i.Image.StartsWith("postgres:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(postgres);
        Assert.All(postgres, i => Assert.Matches(@"^postgres:15\.[0-9]+(-bookworm)?$", i.Image));
    }

    [Theory]
    [InlineData("instances.image.tag=latest")]
    [InlineData("controlPlane.bundled.image.tag=latest")]
    [InlineData("image.digest=sha256:abc")]
    [InlineData("global.imageRegistry=https://mirror.school.internal")]
    public async Task TheSchemaRefusesAFloatingTagOrAMalformedDigestOrRegistry(string setting)
    {
        var rendered = await HelmChartTests.HelmAsync("template", "taidon", HelmChartTests.Chart, "--set", setting);

        Assert.NotEqual(0, rendered.ExitCode);
        Assert.Contains(setting.Split('=')[0].Split('.')[^1], rendered.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePrePullerRunsTheInstancesImageOnTheInstancesNodesWhenTurnedOn()
    {
        Assert.Empty((await HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, "ci", "minikube-values.yaml"))).OfType<V1DaemonSet>());

        var objects = await HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, "ci", "maximal-values.yaml"));
        var app = objects.OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single();
        var instanceImage = app.Env.Single(e => e.Name == "Taidon__Kubernetes__InstanceImage").Value;
        var instancesNamespace = app.Env.Single(e => e.Name == "Taidon__Kubernetes__Namespace").Value;
        var daemonSet = Assert.Single(objects.OfType<V1DaemonSet>());
        Assert.Equal(instancesNamespace, daemonSet.Metadata.NamespaceProperty);
        var pod = daemonSet.Spec.Template.Spec;

        // Where instances run: the app passes the same node labels and tolerations to every instance pod.
        Assert.Equal(
            app.Env.Where(e => e.Name.StartsWith("Taidon__Kubernetes__NodeSelector__", StringComparison.Ordinal)).Select(e => e.Value).Order(StringComparer.Ordinal),
            pod.NodeSelector.Select(l => $"{l.Key}={l.Value}").Order(StringComparer.Ordinal));
        Assert.Equal(
            app.Env.Where(e => e.Name.StartsWith("Taidon__Kubernetes__Tolerations__", StringComparison.Ordinal)).Select(e => e.Value).Order(StringComparer.Ordinal),
            pod.Tolerations.SelectMany(t => new[] { t.Key, t.OperatorProperty, t.Value, t.Effect }).Where(v => !string.IsNullOrEmpty(v)).Order(StringComparer.Ordinal));
        Assert.Equal(["mirror-login"], pod.ImagePullSecrets.Select(s => s.Name));

        // The pull, then a container of the same image that only sleeps: nothing else to mirror.
        var pull = Assert.Single(pod.InitContainers);
        Assert.Equal(instanceImage, pull.Image);
        Assert.Equal(["/bin/true"], pull.Command);
        var sleep = Assert.Single(pod.Containers);
        Assert.Equal(instanceImage, sleep.Image);
        Assert.Contains("sleep", string.Join(' ', sleep.Command), StringComparison.Ordinal);

        // Pod Security "restricted" in the instances' namespace, and stated resources (the quota counts them).
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);
        Assert.False(pod.AutomountServiceAccountToken);
        Assert.All(pod.InitContainers.Concat(pod.Containers), c =>
        {
            Assert.False(c.SecurityContext.AllowPrivilegeEscalation);
            Assert.Equal(["ALL"], c.SecurityContext.Capabilities.Drop);
            Assert.Contains("cpu", c.Resources.Limits);
            Assert.Contains("memory", c.Resources.Limits);
            Assert.Contains("memory", c.Resources.Requests);
        });

        // The default-deny policy of the instances' namespace isolates it too.
        var policies = new NetworkPolicyEvaluator(objects.OfType<V1NetworkPolicy>().Where(p => p.Metadata.NamespaceProperty is not null));
        var prePuller = NetworkEndpoint.Pod(instancesNamespace, daemonSet.Spec.Template.Metadata.Labels, "10.244.1.20");
        Assert.False(policies.Allows(prePuller, NetworkEndpoint.External("93.184.216.34"), 443));
    }

    private static Task<List<object>> RenderAsync(string[] settings) =>
        HelmChartTests.RenderAsync(Path.Combine(HelmChartTests.Chart, "ci", "default-values.yaml"), settings);

    // Every image the release runs or hands to the app, with where it is.
    private static List<(string Where, string Image)> Images(IEnumerable<object> objects)
    {
        static IEnumerable<(string, string)> OfPod(string owner, V1PodSpec pod) =>
            (pod.InitContainers ?? []).Concat(pod.Containers).Select(c => ($"{owner}/{c.Name}", c.Image));

        var images = new List<(string Where, string Image)>();
        foreach (var o in objects)
        {
            switch (o)
            {
                case V1Deployment d:
                    images.AddRange(OfPod("app", d.Spec.Template.Spec));
                    images.AddRange(d.Spec.Template.Spec.Containers.SelectMany(c => c.Env ?? [])
                        .Where(e => e.Name == "Taidon__Kubernetes__InstanceImage").Select(e => (e.Name, e.Value)));
                    break;
                case V1StatefulSet s:
                    images.AddRange(s.Spec.Template.Spec.Containers.Select(c => ("database", c.Image)));
                    break;
                case V1DaemonSet ds:
                    images.AddRange(OfPod("prepuller", ds.Spec.Template.Spec));
                    break;
                case V1Pod p:
                    images.AddRange(OfPod("test", p.Spec));
                    break;
            }
        }

        return images;
    }
}
