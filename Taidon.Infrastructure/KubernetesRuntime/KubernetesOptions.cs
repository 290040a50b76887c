using System.ComponentModel.DataAnnotations;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>Which runtime runs the instances.</summary>
public enum RuntimeKind
{
    /// <summary>Local PostgreSQL processes and a snapshot store on this machine's disk, started by the app (no setup).</summary>
    Embedded,

    /// <summary>A pod and a volume per instance, snapshot layers as CSI VolumeSnapshots or archives (<see cref="LayerKind"/>).</summary>
    Kubernetes,
}

/// <summary>How the Kubernetes runtime keeps snapshot layers: what the cluster offers decides.</summary>
public enum LayerKind
{
    /// <summary>CSI VolumeSnapshots of the instances' volumes (needs a CSI driver that takes snapshots and <c>VolumeSnapshotClassName</c>).</summary>
    Snapshots,

    /// <summary>
    /// Archives of a stopped instance's volume on a shared volume (<c>LayersClaim</c>), unpacked into a new
    /// volume by an init container: any cluster with a StorageClass works (k3s's local-path, on-premises).
    /// </summary>
    Archives,
}

/// <summary>Settings of <c>Taidon:Runtime</c>.</summary>
public sealed class RuntimeOptions
{
    public const string SectionName = "Taidon:Runtime";

    /// <summary><c>Embedded</c> (default) or <c>Kubernetes</c> (then <c>Taidon:Kubernetes</c> says where).</summary>
    public RuntimeKind Kind { get; set; } = RuntimeKind.Embedded;
}

/// <summary>Settings of <c>Taidon:Kubernetes</c>: where and how the Kubernetes runtime runs instances.</summary>
public sealed class KubernetesOptions : IValidatableObject
{
    public const string SectionName = "Taidon:Kubernetes";

    /// <summary>The namespace of the instances, their volumes, layers and Git tokens; the app's service account needs the chart's Role there.</summary>
    public string? Namespace { get; set; }

    /// <summary>
    /// Which installation the objects belong to (label <c>app.kubernetes.io/instance</c>; the chart passes its
    /// release name): the runtime lists, watches and reconciles only its own, so two installations may share
    /// a namespace without touching each other's instances.
    /// </summary>
    [RegularExpression("^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$", ErrorMessage = "Taidon:Kubernetes:Release must be a label value: lowercase letters, digits, '-' and '.', at most 63.")]
    public string Release { get; set; } = "taidon";

    /// <summary>A kubeconfig file to reach the cluster; empty inside a pod (the service account's token is used).</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>The instances' image: the official PostgreSQL image or one built like it (initdb, postgres and pg_isready on PATH, user 999).</summary>
    [Required(ErrorMessage = "Taidon:Kubernetes:InstanceImage must name the instances' PostgreSQL image, e.g. postgres:15-bookworm.")]
    public string InstanceImage { get; set; } = "postgres:15-bookworm";

    [RegularExpression("^(IfNotPresent|Always|Never)$", ErrorMessage = "Taidon:Kubernetes:ImagePullPolicy must be IfNotPresent, Always or Never.")]
    public string ImagePullPolicy { get; set; } = "IfNotPresent";

    /// <summary>
    /// Secrets (of type kubernetes.io/dockerconfigjson) in the instances' namespace that let the kubelet pull
    /// <see cref="InstanceImage"/> from a registry that asks for a login, as an on-premises mirror does.
    /// </summary>
    public List<string> ImagePullSecrets { get; set; } = [];

    /// <summary>The StorageClass of the instances' volumes (with snapshot layers its CSI driver must take snapshots); empty means the cluster's default.</summary>
    public string? StorageClassName { get; set; }

    /// <summary>The VolumeSnapshotClass of the snapshot layers (minikube: csi-hostpath-snapclass); with it, layers are snapshots unless <see cref="Layers"/> says otherwise.</summary>
    public string? VolumeSnapshotClassName { get; set; }

    /// <summary>
    /// <c>Snapshots</c> or <c>Archives</c>; unset, snapshots when <see cref="VolumeSnapshotClassName"/> is set,
    /// else archives when <see cref="LayersClaim"/> is set (<see cref="LayerMode"/>).
    /// </summary>
    public LayerKind? Layers { get; set; }

    /// <summary>
    /// The PersistentVolumeClaim in the instances' namespace that holds the archive layers (one file per layer):
    /// ReadWriteMany when instances run on several nodes; ReadWriteOnce does on a one-node cluster.
    /// </summary>
    public string? LayersClaim { get; set; }

    /// <summary>The way layers are kept, as set or as the settings imply; null when neither is possible (<see cref="Validate"/> refuses that).</summary>
    public LayerKind? LayerMode => Layers
        ?? (!string.IsNullOrWhiteSpace(VolumeSnapshotClassName) ? LayerKind.Snapshots
            : !string.IsNullOrWhiteSpace(LayersClaim) ? LayerKind.Archives
            : null);

    /// <summary>
    /// Node labels an instance's node must have (a required node affinity), each as <c>label=value</c>, e.g.
    /// <c>example.org/disk=ssd</c> for the nodes with fast disks. A list, not a map: a label with "/" cannot
    /// be part of an environment variable's name on older clusters.
    /// </summary>
    public List<string> NodeSelector { get; set; } = [];

    /// <summary>The node labels as pairs (<see cref="Validate"/> has checked their form).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> NodeLabels() =>
        [.. NodeSelector.Select(l => l.Split('=', 2)).Where(p => p.Length == 2).Select(p => new KeyValuePair<string, string>(p[0].Trim(), p[1].Trim()))];

    /// <summary>Taints the instances tolerate, e.g. those of dedicated instance nodes.</summary>
    public List<InstanceToleration> Tolerations { get; set; } = [];

    /// <summary>
    /// How long a pod may take to be ready (image pull, scheduling, volume from a snapshot or an archive unpacked)
    /// before the run says it failed; also how long an archiving pod may take.
    /// </summary>
    [Range(10, 3600, ErrorMessage = "Taidon:Kubernetes:StartTimeoutSeconds must be between 10 and 3600.")]
    public int StartTimeoutSeconds { get; set; } = 180;

    public TimeSpan StartTimeout => TimeSpan.FromSeconds(StartTimeoutSeconds);

    /// <summary>
    /// Instance pods this replica starts at once, from the create call until the pod is ready (a start, a
    /// restore's start, a capture's snapshot); the others wait their turn. Like Zero to JupyterHub's
    /// concurrentSpawnLimit: a class arriving together does not swamp the scheduler and the CSI driver.
    /// </summary>
    [Range(1, 1000, ErrorMessage = "Taidon:Kubernetes:ConcurrentStarts must be between 1 and 1000.")]
    public int ConcurrentStarts { get; set; } = 64;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Namespace) || !InstanceNames.IsDnsLabel(Namespace))
        {
            yield return new ValidationResult(
                $"Taidon:Kubernetes:Namespace '{Namespace}' must name the instances' namespace (lowercase letters, digits and '-', at most 63), e.g. taidon-instances.",
                [nameof(Namespace)]);
        }

        switch (LayerMode)
        {
            case null:
                yield return new ValidationResult(
                    "The Kubernetes runtime needs a way to keep snapshot layers: set Taidon:Kubernetes:VolumeSnapshotClassName to a VolumeSnapshotClass (needs a CSI driver that "
                    + "takes snapshots; see `kubectl get volumesnapshotclass`), or Taidon:Kubernetes:LayersClaim to a PersistentVolumeClaim in the instances' namespace for "
                    + "archive layers (any StorageClass; ReadWriteMany when instances run on several nodes), and Taidon:Kubernetes:Layers to Snapshots or Archives.",
                    [nameof(VolumeSnapshotClassName), nameof(LayersClaim)]);
                break;
            case LayerKind.Snapshots when string.IsNullOrWhiteSpace(VolumeSnapshotClassName):
                yield return new ValidationResult(
                    "Taidon:Kubernetes:Layers is Snapshots: Taidon:Kubernetes:VolumeSnapshotClassName must name the VolumeSnapshotClass of the snapshot layers (minikube: csi-hostpath-snapclass; "
                    + "see `kubectl get volumesnapshotclass`). Without CSI snapshots, set Layers to Archives and LayersClaim.",
                    [nameof(VolumeSnapshotClassName)]);
                break;
            case LayerKind.Archives when string.IsNullOrWhiteSpace(LayersClaim) || !InstanceNames.IsDnsSubdomain(LayersClaim):
                yield return new ValidationResult(
                    $"Taidon:Kubernetes:Layers is Archives: Taidon:Kubernetes:LayersClaim '{LayersClaim}' must name a PersistentVolumeClaim in the instances' namespace for the archives "
                    + "(ReadWriteMany when instances run on several nodes; the chart makes it with instances.layers: archives).",
                    [nameof(LayersClaim)]);
                break;
        }

        if (!string.IsNullOrEmpty(Kubeconfig) && !File.Exists(Kubeconfig))
        {
            yield return new ValidationResult($"Taidon:Kubernetes:Kubeconfig '{Kubeconfig}' does not exist; leave it empty inside the cluster.", [nameof(Kubeconfig)]);
        }

        foreach (var secret in ImagePullSecrets.Where(s => !InstanceNames.IsDnsSubdomain(s)))
        {
            yield return new ValidationResult($"Taidon:Kubernetes:ImagePullSecrets: '{secret}' must name a Secret in the instances' namespace (lowercase letters, digits, '-' and '.').", [nameof(ImagePullSecrets)]);
        }

        foreach (var label in NodeSelector.Where(l => l.Split('=', 2) is not [{ Length: > 0 }, _]))
        {
            yield return new ValidationResult($"Taidon:Kubernetes:NodeSelector: '{label}' must be label=value, e.g. example.org/disk=ssd.", [nameof(NodeSelector)]);
        }

        foreach (var toleration in Tolerations.Where(t => t.Operator is not ("Equal" or "Exists") || t.Effect is not (null or "" or "NoSchedule" or "PreferNoSchedule" or "NoExecute")))
        {
            yield return new ValidationResult(
                $"Taidon:Kubernetes:Tolerations: the toleration of '{toleration.Key}' needs Operator Equal or Exists and Effect NoSchedule, PreferNoSchedule, NoExecute or empty.",
                [nameof(Tolerations)]);
        }
    }
}

/// <summary>A taint the instance pods tolerate.</summary>
public sealed class InstanceToleration
{
    public string? Key { get; set; }

    public string Operator { get; set; } = "Equal";

    public string? Value { get; set; }

    public string? Effect { get; set; }
}
