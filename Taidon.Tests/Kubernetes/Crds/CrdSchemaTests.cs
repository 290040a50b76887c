using System.Text.Json.Nodes;
using Taidon.Tests.Support;

namespace Taidon.Tests.Kubernetes.Crds;

/// <summary>CrdSchema against the real VolumeSnapshot CRD (snapshot.storage.k8s.io/v1, external-snapshotter v8).</summary>
public sealed class CrdSchemaTests
{
    private static readonly string VolumeSnapshotCrd =
        Path.Combine(Repository.Root, "Taidon.Tests", "Kubernetes", "Crds", "snapshot.storage.k8s.io_volumesnapshots.yaml");

    [Fact]
    public void ASnapshotOfAClaimWithAClassHasNoProblems()
    {
        var snapshot = Snapshot("""{ "source": { "persistentVolumeClaimName": "data-1" }, "volumeSnapshotClassName": "csi-hostpath-snapclass" }""");

        Assert.Empty(Problems(snapshot));
    }

    [Fact]
    public void ASnapshotOfAnExistingContentWithoutAClassHasNoProblems()
    {
        Assert.Empty(Problems(Snapshot("""{ "source": { "volumeSnapshotContentName": "snapcontent-1" } }""")));
    }

    [Theory]
    [InlineData("\"1Gi\"")]
    [InlineData("1073741824")]
    public void TheStatusTheControllerWritesHasNoProblems(string restoreSize)
    {
        var snapshot = Snapshot("""{ "source": { "persistentVolumeClaimName": "data-1" } }""");
        snapshot["status"] = JsonNode.Parse($$"""
            { "boundVolumeSnapshotContentName": "snapcontent-1", "creationTime": "2025-01-01T00:00:00Z", "readyToUse": true,
              "restoreSize": {{restoreSize}}, "error": { "message": "none", "time": "2025-01-01T00:00:00Z" } }
            """);

        Assert.Empty(Problems(snapshot));
    }

    [Fact]
    public void BothSourcesAreRefusedAtTheSource()
    {
        var snapshot = Snapshot("""{ "source": { "persistentVolumeClaimName": "data-1", "volumeSnapshotContentName": "snapcontent-1" } }""");

        Assert.Equal("$.spec.source: exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set", Assert.Single(Problems(snapshot)));
    }

    [Fact]
    public void NeitherSourceIsRefusedAtTheSource()
    {
        var snapshot = Snapshot("""{ "source": {}, "volumeSnapshotClassName": "csi-hostpath-snapclass" }""");

        Assert.Equal("$.spec.source: exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set", Assert.Single(Problems(snapshot)));
    }

    [Fact]
    public void AMissingSourceIsRefusedByItsPath()
    {
        Assert.Equal("$.spec.source: required field is missing", Assert.Single(Problems(Snapshot("""{ "volumeSnapshotClassName": "csi-hostpath-snapclass" }"""))));
    }

    [Fact]
    public void AnUnknownSpecFieldIsRefusedByItsPath()
    {
        var snapshot = Snapshot("""{ "source": { "persistentVolumeClaimName": "data-1" }, "snapshotClassName": "csi-hostpath-snapclass" }""");

        Assert.StartsWith("$.spec.snapshotClassName: unknown field", Assert.Single(Problems(snapshot)), StringComparison.Ordinal);
    }

    [Fact]
    public void AWrongTypeIsRefusedByItsPath()
    {
        var snapshot = Snapshot("""{ "source": { "persistentVolumeClaimName": "data-1" }, "volumeSnapshotClassName": 5 }""");

        Assert.Equal("$.spec.volumeSnapshotClassName: expected string, got 5", Assert.Single(Problems(snapshot)));
    }

    [Fact]
    public void AnEmptyClassNameIsRefusedAsTheCrdsRuleSays()
    {
        var snapshot = Snapshot("""{ "source": { "persistentVolumeClaimName": "data-1" }, "volumeSnapshotClassName": "" }""");

        Assert.Equal("$.spec.volumeSnapshotClassName: volumeSnapshotClassName must not be the empty string when set", Assert.Single(Problems(snapshot)));
    }

    [Fact]
    public void AnotherGroupVersionOrKindIsRefused()
    {
        var snapshot = Snapshot("""{ "source": { "persistentVolumeClaimName": "data-1" } }""");
        snapshot["apiVersion"] = "snapshot.storage.k8s.io/v1beta1";
        snapshot["kind"] = "VolumeSnapshotContent";

        Assert.Equal(["$.apiVersion: must be snapshot.storage.k8s.io/v1", "$.kind: must be VolumeSnapshot"], Problems(snapshot));
    }

    [Fact]
    public void ARestoreSizeThatIsNotAQuantityIsRefused()
    {
        var snapshot = Snapshot("""{ "source": { "persistentVolumeClaimName": "data-1" } }""");
        snapshot["status"] = JsonNode.Parse("""{ "restoreSize": "lots" }""");

        Assert.StartsWith("$.status.restoreSize: \"lots\" does not match", Assert.Single(Problems(snapshot)), StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnservedVersionCannotBeLoaded()
    {
        Assert.Throws<InvalidDataException>(() => CrdSchema.Load(VolumeSnapshotCrd, "v2"));
    }

    private static IReadOnlyList<string> Problems(JsonNode snapshot) => CrdSchema.Load(VolumeSnapshotCrd, "v1").Problems(snapshot);

    // Metadata as the runtime sends it; labels and annotations with dots are ObjectMeta's business, not the schema's.
    private static JsonNode Snapshot(string spec)
    {
        var snapshot = JsonNode.Parse("""
            {
              "apiVersion": "snapshot.storage.k8s.io/v1",
              "kind": "VolumeSnapshot",
              "metadata": { "name": "layer-1", "namespace": "taidon-instances", "labels": { "app.kubernetes.io/managed-by": "taidon" } }
            }
            """)!;
        snapshot["spec"] = JsonNode.Parse(spec);
        return snapshot;
    }
}
