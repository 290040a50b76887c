using System.Net;
using k8s.Models;

namespace Taidon.Tests.Charts;

/// <summary>A place traffic comes from or goes to: a pod (its namespace, labels and address) or an address outside the cluster.</summary>
public sealed record NetworkEndpoint(string? Namespace, IReadOnlyDictionary<string, string> Labels, IPAddress Address)
{
    public bool IsPod => Namespace is not null;

    public static NetworkEndpoint Pod(string ns, IDictionary<string, string> labels, string address) =>
        new(ns, new Dictionary<string, string>(labels), IPAddress.Parse(address));

    public static NetworkEndpoint External(string address) => new(null, new Dictionary<string, string>(), IPAddress.Parse(address));

    public override string ToString() =>
        IsPod ? $"{Namespace}/{{{string.Join(',', Labels.Select(l => $"{l.Key}={l.Value}"))}}} ({Address})" : Address.ToString();
}

/// <summary>
/// Decides "may A reach B on this port" from rendered NetworkPolicies as Kubernetes does: a pod is isolated for
/// ingress (egress) when a policy in its namespace selects it with that policy type, and then only what some
/// rule of some selecting policy allows gets through; both the sender's egress and the receiver's ingress must
/// allow. In one peer a namespaceSelector and a podSelector both hold; separate peers and rules add up. An
/// ipBlock matches addresses in its network outside its exceptions, pods' addresses included (as Calico does;
/// the stricter reading for a test that something is denied). Namespaces carry kubernetes.io/metadata.name.
/// Named ports are refused: the chart's policies use numbers.
/// </summary>
public sealed class NetworkPolicyEvaluator(IEnumerable<V1NetworkPolicy> policies, IReadOnlyDictionary<string, IDictionary<string, string>>? namespaceLabels = null)
{
    private readonly List<V1NetworkPolicy> _policies = [.. policies];

    public bool Allows(NetworkEndpoint from, NetworkEndpoint to, int port, string protocol = "TCP") =>
        Allows(from, to, port, protocol, "Egress") && Allows(to, from, port, protocol, "Ingress");

    // Whether the policies of `subject` let traffic with `other` through in `direction`.
    private bool Allows(NetworkEndpoint subject, NetworkEndpoint other, int port, string protocol, string direction)
    {
        if (!subject.IsPod)
        {
            return true; // outside the cluster no policy applies
        }

        var selecting = _policies
            .Where(p => (p.Metadata.NamespaceProperty ?? throw new InvalidOperationException($"The policy {p.Metadata.Name} has no namespace.")) == subject.Namespace)
            .Where(p => Matches(p.Spec.PodSelector, subject.Labels))
            .Where(p => PolicyTypes(p).Contains(direction))
            .ToList();
        if (selecting.Count == 0)
        {
            return true; // not isolated
        }

        return selecting.Any(p => direction == "Egress"
            ? (p.Spec.Egress ?? []).Any(r => PortsAllow(r.Ports, port, protocol) && PeersAllow(r.To, p, other))
            : (p.Spec.Ingress ?? []).Any(r => PortsAllow(r.Ports, port, protocol) && PeersAllow(r.FromProperty, p, other)));
    }

    // Without policyTypes: Ingress always, Egress when the policy has egress rules.
    private static IEnumerable<string> PolicyTypes(V1NetworkPolicy policy) =>
        policy.Spec.PolicyTypes ?? (policy.Spec.Egress is { Count: > 0 } ? ["Ingress", "Egress"] : ["Ingress"]);

    private static bool PortsAllow(IList<V1NetworkPolicyPort>? ports, int port, string protocol) =>
        ports is not { Count: > 0 } || ports.Any(p =>
        {
            if ((p.Protocol ?? "TCP") != protocol)
            {
                return false;
            }

            if (p.Port is null)
            {
                return true;
            }

            if (!int.TryParse(p.Port.Value, out var number))
            {
                throw new NotSupportedException($"The named port {p.Port.Value} is not supported by this evaluator.");
            }

            return p.EndPort is { } end ? port >= number && port <= end : port == number;
        });

    private bool PeersAllow(IList<V1NetworkPolicyPeer>? peers, V1NetworkPolicy policy, NetworkEndpoint other) =>
        peers is not { Count: > 0 } || peers.Any(peer => PeerMatches(peer, policy, other));

    private bool PeerMatches(V1NetworkPolicyPeer peer, V1NetworkPolicy policy, NetworkEndpoint other)
    {
        if (peer.IpBlock is { } block)
        {
            return IPNetwork.Parse(block.Cidr).Contains(other.Address)
                && !(block.Except ?? []).Any(e => IPNetwork.Parse(e).Contains(other.Address));
        }

        if (!other.IsPod || (peer.NamespaceSelector is null && peer.PodSelector is null))
        {
            return false;
        }

        var namespaceMatches = peer.NamespaceSelector is { } namespaces
            ? Matches(namespaces, NamespaceLabels(other.Namespace!))
            : other.Namespace == policy.Metadata.NamespaceProperty;
        return namespaceMatches && (peer.PodSelector is null || Matches(peer.PodSelector, other.Labels));
    }

    private IReadOnlyDictionary<string, string> NamespaceLabels(string ns)
    {
        var labels = new Dictionary<string, string>(namespaceLabels?.GetValueOrDefault(ns) ?? new Dictionary<string, string>())
        {
            ["kubernetes.io/metadata.name"] = ns,
        };
        return labels;
    }

    // An empty selector selects everything; matchLabels and every matchExpression must all hold.
    private static bool Matches(V1LabelSelector? selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector is null)
        {
            return true;
        }

        return (selector.MatchLabels ?? new Dictionary<string, string>()).All(l => labels.TryGetValue(l.Key, out var value) && value == l.Value)
            && (selector.MatchExpressions ?? []).All(e => e.OperatorProperty switch
            {
                "In" => labels.TryGetValue(e.Key, out var value) && e.Values.Contains(value),
                "NotIn" => !labels.TryGetValue(e.Key, out var value) || !e.Values.Contains(value),
                "Exists" => labels.ContainsKey(e.Key),
                "DoesNotExist" => !labels.ContainsKey(e.Key),
                _ => throw new NotSupportedException($"The selector operator {e.OperatorProperty} is unknown."),
            });
    }
}
