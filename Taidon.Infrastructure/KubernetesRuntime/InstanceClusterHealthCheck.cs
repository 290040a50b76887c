using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>
/// Readiness of a replica on the Kubernetes runtime (<c>/readyz</c>): ready once it has listed the
/// instances' pods, Secrets and layers, and while their watches work. A replica that cannot see the
/// instances' namespace (a Role taken away, an API server it cannot reach) would start no instance and let
/// every run wait out its start timeout: taken out of the Service, its students go to one that can.
/// </summary>
public sealed class InstanceClusterHealthCheck(InstanceCluster cluster, TimeProvider clock, TimeSpan? grace = null) : IHealthCheck
{
    /// <summary>How long a watch may fail (it lists again, backing off) before the replica says it is not ready.</summary>
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _grace = grace ?? DefaultGrace;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        foreach (var (kind, index) in cluster.Indexes)
        {
            if (!index.IsListed)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy($"The instances' {kind} in {cluster.Namespace} are not listed yet."));
            }

            if (index.Failing is { } failing && clock.GetUtcNow() - failing.Since > _grace)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy(
                    $"Watching the instances' {kind} in {cluster.Namespace} has failed for {(clock.GetUtcNow() - failing.Since).TotalSeconds:0} s: {failing.Problem}"));
            }
        }

        return Task.FromResult(HealthCheckResult.Healthy($"Watching the instances' namespace {cluster.Namespace}."));
    }
}
