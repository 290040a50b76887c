using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>A CSI snapshot of a volume (<c>snapshot.storage.k8s.io/v1</c>): one snapshot layer of the Kubernetes runtime.</summary>
public sealed class VolumeSnapshot : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "snapshot.storage.k8s.io";
    public const string Version = "v1";
    public const string Plural = "volumesnapshots";
    public const string KindName = "VolumeSnapshot";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = Group + "/" + Version;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KindName;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public VolumeSnapshotSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public VolumeSnapshotStatus? Status { get; set; }
}

public sealed class VolumeSnapshotSpec
{
    [JsonPropertyName("volumeSnapshotClassName")]
    public string? VolumeSnapshotClassName { get; set; }

    [JsonPropertyName("source")]
    public VolumeSnapshotSource Source { get; set; } = new();
}

/// <summary>Exactly one of the two: the volume to snapshot, or an existing snapshot's content.</summary>
public sealed class VolumeSnapshotSource
{
    [JsonPropertyName("persistentVolumeClaimName")]
    public string? PersistentVolumeClaimName { get; set; }

    [JsonPropertyName("volumeSnapshotContentName")]
    public string? VolumeSnapshotContentName { get; set; }
}

public sealed class VolumeSnapshotStatus
{
    [JsonPropertyName("boundVolumeSnapshotContentName")]
    public string? BoundVolumeSnapshotContentName { get; set; }

    /// <summary>When the snapshot was cut: the volume may be used again from then on.</summary>
    [JsonPropertyName("creationTime")]
    public DateTime? CreationTime { get; set; }

    /// <summary>Whether a volume can be made from it.</summary>
    [JsonPropertyName("readyToUse")]
    public bool? ReadyToUse { get; set; }

    [JsonPropertyName("restoreSize")]
    public ResourceQuantity? RestoreSize { get; set; }

    [JsonPropertyName("error")]
    public VolumeSnapshotError? Error { get; set; }
}

public sealed class VolumeSnapshotError
{
    [JsonPropertyName("message")]
    public string? Message { get; set; }

    [JsonPropertyName("time")]
    public DateTime? Time { get; set; }
}

public sealed class VolumeSnapshotList : IKubernetesObject<V1ListMeta>, IItems<VolumeSnapshot>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = VolumeSnapshot.Group + "/" + VolumeSnapshot.Version;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "VolumeSnapshotList";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<VolumeSnapshot> Items { get; set; } = [];
}
