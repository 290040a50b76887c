using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using k8s;

namespace Taidon.Tests.Kubernetes;

/// <summary>A test against a real cluster with the chart installed (minikube); skipped unless <c>TAIDON_K8S_E2E=1</c>.</summary>
public sealed class KubernetesE2EFactAttribute : FactAttribute
{
    public KubernetesE2EFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("TAIDON_K8S_E2E") != "1")
        {
            Skip = "Needs a cluster with the chart installed: set TAIDON_K8S_E2E=1, KUBECONFIG and TAIDON_K8S_E2E_URL (charts/taidon/README.md, 'Real-cluster tests').";
        }
    }
}

/// <summary>
/// The installed product end to end: a visitor's script runs in a pod of its own, the snapshot layers
/// are VolumeSnapshots, and an edited rerun gives the new answer. Steps: charts/taidon/README.md.
/// </summary>
[Trait("Category", "KubernetesE2E")]
public sealed class KubernetesEndToEndTests
{
    private static string Namespace => Environment.GetEnvironmentVariable("TAIDON_K8S_E2E_NAMESPACE") ?? "taidon-instances";

    [KubernetesE2EFact]
    public async Task AStudentsScriptRunsInAPodOfItsOwnAndTheBaseStateIsAVolumeSnapshot()
    {
        var url = Environment.GetEnvironmentVariable("TAIDON_K8S_E2E_URL")
            ?? throw new InvalidOperationException("Set TAIDON_K8S_E2E_URL to the installed app's URL, e.g. http://localhost:8080 from kubectl port-forward.");
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(5) };
        var anonymous = await (await http.PostAsync("/api/v1/anonymous", null)).Content.ReadFromJsonAsync<JsonElement>();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", anonymous.GetProperty("token").GetString());

        var first = await RunAsync(http, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (2);\nSELECT count(*) AS n FROM t;");
        var second = await RunAsync(http, "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (2);\nSELECT count(*) * 10 AS n FROM t;");

        Assert.Equal("2", first.GetProperty("statements")[2].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());
        Assert.Equal("20", second.GetProperty("statements")[2].GetProperty("results")[0].GetProperty("rows")[0][0].GetString());

        using var cluster = new k8s.Kubernetes(KubernetesClientConfiguration.BuildDefaultConfig());
        var pods = await cluster.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: "app.kubernetes.io/managed-by=taidon,app.kubernetes.io/component=instance");
        Assert.Contains(pods.Items, p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true && p.Metadata.Labels.ContainsKey("taidon.io/account"));
        var snapshots = await cluster.CustomObjects.ListNamespacedCustomObjectAsync<JsonElement>("snapshot.storage.k8s.io", "v1", Namespace, "volumesnapshots",
            labelSelector: "app.kubernetes.io/managed-by=taidon");
        Assert.Contains(snapshots.GetProperty("items").EnumerateArray(),
            s => s.TryGetProperty("status", out var status) && status.TryGetProperty("readyToUse", out var ready) && ready.GetBoolean());
    }

    private static async Task<JsonElement> RunAsync(HttpClient http, string script)
    {
        var response = await http.PostAsJsonAsync("/api/v1/runs", new { script });
        var run = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode && run.GetProperty("succeeded").GetBoolean(), run.ToString());
        return run;
    }
}
