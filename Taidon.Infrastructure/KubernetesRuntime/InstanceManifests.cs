using System.Globalization;
using System.Text.RegularExpressions;
using k8s.Models;
using Taidon.Core.Instances;
using Taidon.Core.Quotas;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>Names and labels of the objects the Kubernetes runtime makes: DNS-safe, derived from ids and keys.</summary>
public static partial class InstanceNames
{
    public const string ManagedBy = "taidon";
    public const string InstanceLabel = "taidon.io/instance";
    public const string AccountLabel = "taidon.io/account";
    public const string StateLabel = "taidon.io/state";
    public const string ComponentLabel = "app.kubernetes.io/component";
    public const string AccountAnnotation = "taidon.io/account-id";
    public const string StateAnnotation = "taidon.io/state-key";
    public const string VolumeAnnotation = "taidon.io/volume";

    /// <summary>On the instance's Secret, with archive layers: the layer its current volume is unpacked from (by the pod's init container, once).</summary>
    public const string VolumeLayerAnnotation = "taidon.io/volume-layer";

    /// <summary>On an archive layer's record: the archive's size in bytes, as the capture measured it.</summary>
    public const string BytesAnnotation = "taidon.io/bytes";

    /// <summary>On an archive layer's record: when the archive was made (ISO 8601, UTC).</summary>
    public const string CreatedAnnotation = "taidon.io/created";
    public const string ChainKeyAnnotation = "taidon.io/chain-key";
    public const string ParentKeyAnnotation = "taidon.io/parent-key";
    public const string InstanceComponent = "instance";
    public const string LayerComponent = "layer";

    /// <summary>The one-shot pods that archive a volume into a layer or remove a layer's archive.</summary>
    public const string ArchiverComponent = "layer-archiver";
    public const string GitCredentialComponent = "git-credential";

    /// <summary>The instance's pod and its Secret (password, current volume, state).</summary>
    public static string Pod(Guid instanceId) => "instance-" + instanceId.ToString("N");

    public static string Secret(Guid instanceId) => Pod(instanceId);

    /// <summary>A volume of the instance; every restore makes a new one, so the name carries a generation.</summary>
    public static string Volume(Guid instanceId) => $"{Pod(instanceId)}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}";

    /// <summary>The VolumeSnapshot of a layer (or the ConfigMap recording its archive, <c>&lt;name&gt;.tar</c>): the whole chain key, so a name is a key.</summary>
    public static string Layer(ChainKey key) => "layer-" + key;

    /// <summary>A one-shot pod working on the layers' volume (<paramref name="task"/>: archive, remove); a random tail, as two may work on one key.</summary>
    public static string ArchiverPod(string task, ChainKey key) => $"{task}-{key.Short}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}";

    public static bool TryParseLayer(string name, out ChainKey key)
    {
        key = default;
        return name.StartsWith("layer-", StringComparison.Ordinal) && ChainKey.TryParse(name["layer-".Length..], out key);
    }

    public static bool TryParseInstance(string? value, out Guid instanceId) => Guid.TryParseExact(value, "N", out instanceId);

    public const string ReleaseLabel = "app.kubernetes.io/instance";

    /// <summary>The labels every object of the runtime has; selectors use the installation and the component.</summary>
    public static Dictionary<string, string> Labels(string component, string release) => new()
    {
        ["app.kubernetes.io/name"] = "taidon-" + component,
        ["app.kubernetes.io/part-of"] = "taidon",
        ["app.kubernetes.io/managed-by"] = ManagedBy,
        [ReleaseLabel] = release,
        [ComponentLabel] = component,
    };

    public static string Selector(string component, string release) => $"{ReleaseSelector(release)},{ComponentLabel}={component}";

    /// <summary>Every object of the installation, whatever its component.</summary>
    public static string ReleaseSelector(string release) => $"app.kubernetes.io/managed-by={ManagedBy},{ReleaseLabel}={release}";

    /// <summary>A raw value made a label value (at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends); the raw value goes in an annotation.</summary>
    public static string LabelValue(string raw)
    {
        var kept = LabelUnsafe().Replace(raw, "-");
        kept = kept[..Math.Min(kept.Length, 63)].Trim('-', '_', '.');
        return kept;
    }

    /// <summary>A label's or annotation's value, or null.</summary>
    public static string? ValueOf(IDictionary<string, string>? map, string key) => map is not null && map.TryGetValue(key, out var value) ? value : null;

    /// <summary>A Secret's value as text: from <c>data</c> as the API server returns it, or <c>stringData</c> as written.</summary>
    public static string? ValueOf(V1Secret secret, string key) =>
        secret.Data?.TryGetValue(key, out var bytes) == true ? System.Text.Encoding.UTF8.GetString(bytes) : ValueOf(secret.StringData, key);

    public static bool IsDnsLabel(string value) => DnsLabel().IsMatch(value);

    /// <summary>An object name as most kinds take it (RFC 1123 subdomain: labels joined by dots, at most 253).</summary>
    public static bool IsDnsSubdomain(string value) => value.Length <= 253 && DnsSubdomain().IsMatch(value);

    [GeneratedRegex("[^A-Za-z0-9_.-]")]
    private static partial Regex LabelUnsafe();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();
}

/// <summary>
/// The objects of one instance as the runtime sends them: a Secret (the student's password, which
/// volume is current, the state), a PersistentVolumeClaim per generation of its data, and a pod that
/// runs PostgreSQL on it. Pure: tests read what a cluster would get.
/// </summary>
public sealed class InstanceManifests(KubernetesOptions options)
{
    public const int Port = 5432;
    public const int PostgresUser = 999;
    private const string DataMount = "/var/lib/postgresql/data";
    private const string DataDirectory = DataMount + "/pgdata";
    private const string LayersMount = "/var/lib/taidon-layers";
    private const string TerminationLog = "/dev/termination-log";

    public V1Secret Secret(Guid instanceId, string password, string volume, InstanceLimits limits) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Metadata = new V1ObjectMeta
        {
            Name = InstanceNames.Secret(instanceId),
            Labels = InstanceLabels(instanceId, options.Release, limits.Owner, null),
            Annotations = Annotations(limits.Owner, null, (InstanceNames.VolumeAnnotation, volume)),
        },
        Type = "Opaque",
        StringData = new Dictionary<string, string> { ["password"] = password },
    };

    /// <summary>
    /// An instance's volume: empty (for building the base state), made from a layer's VolumeSnapshot, or, with
    /// archive layers, empty for the pod's init container to unpack the layer into (<see cref="Pod"/>).
    /// </summary>
    public V1PersistentVolumeClaim Volume(Guid instanceId, string name, InstanceLimits limits, ChainKey? fromLayer, long? layerBytes) => new()
    {
        ApiVersion = "v1",
        Kind = "PersistentVolumeClaim",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            Labels = InstanceLabels(instanceId, options.Release, limits.Owner, fromLayer),
            Annotations = Annotations(limits.Owner, fromLayer),
        },
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = ["ReadWriteOnce"],
            StorageClassName = string.IsNullOrWhiteSpace(options.StorageClassName) ? null : options.StorageClassName,
            Resources = new V1VolumeResourceRequirements
            {
                // A volume from a layer is at least as large as the layer.
                Requests = new Dictionary<string, ResourceQuantity>
                {
                    ["storage"] = new(Math.Max(limits.StorageMegabytes * 1024L * 1024, layerBytes ?? 0).ToString(CultureInfo.InvariantCulture)),
                },
            },
            DataSource = fromLayer is { } key && options.LayerMode == LayerKind.Snapshots
                ? new V1TypedLocalObjectReference { ApiGroup = VolumeSnapshot.Group, Kind = VolumeSnapshot.KindName, Name = InstanceNames.Layer(key) }
                : null,
        },
    };

    /// <summary>
    /// The instance's pod on <paramref name="volume"/>; with archive layers and <paramref name="unpack"/> set, an
    /// init container first unpacks that layer's archive into the volume, unless the volume says it has been.
    /// </summary>
    public V1Pod Pod(Guid instanceId, string volume, InstanceLimits limits, ChainKey? state, ChainKey? unpack = null)
    {
        var spec = PodSpec("Always", 30);
        spec.InitContainers = unpack is { } layer && options.LayerMode == LayerKind.Archives
            ? [ArchiverContainer("unpack", UnpackScript, [DataMount, LayersMount, InstanceNames.Layer(layer)], DataVolumeMount(readOnly: false), LayersVolumeMount(readOnly: true))]
            : null;
        spec.Containers =
        [
            new V1Container
            {
                Name = "postgres",
                Image = options.InstanceImage,
                ImagePullPolicy = options.ImagePullPolicy,
                Command = ["/bin/sh", "-c", StartScript, "taidon-instance"],
                Args = [.. PostgresSettings(limits).SelectMany(s => new[] { "-c", $"{s.Key}={s.Value}" })],
                Env =
                [
                    new V1EnvVar { Name = "PGDATA", Value = DataDirectory },
                    new V1EnvVar { Name = "TAIDON_MAX_CONNECTIONS", Value = limits.MaxConnections.ToString(CultureInfo.InvariantCulture) },
                    new V1EnvVar
                    {
                        Name = "TAIDON_STUDENT_PASSWORD",
                        ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = InstanceNames.Secret(instanceId), Key = "password" } },
                    },
                ],
                Ports = [new V1ContainerPort { Name = "postgres", ContainerPort = Port, Protocol = "TCP" }],
                Resources = Resources(limits),
                SecurityContext = ContainerSecurity(),
                ReadinessProbe = new V1Probe
                {
                    Exec = new V1ExecAction { Command = ["pg_isready", "--host=127.0.0.1", $"--port={Port}", "--dbname=workspace", "--username=student", "--quiet"] },
                    PeriodSeconds = 2,
                    TimeoutSeconds = 2,
                    FailureThreshold = 3,
                },
                // The kubelet's signal alone would wait for every client (a smart shutdown) and flush nothing.
                Lifecycle = new V1Lifecycle
                {
                    PreStop = new V1LifecycleHandler { Exec = new V1ExecAction { Command = ["/bin/sh", "-c", StopScript] } },
                },
                VolumeMounts =
                [
                    new V1VolumeMount { Name = "data", MountPath = DataMount },
                    new V1VolumeMount { Name = "run", MountPath = "/var/run/postgresql" },
                    new V1VolumeMount { Name = "tmp", MountPath = "/tmp" },
                ],
            },
        ];
        spec.Volumes =
        [
            new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = volume } },
            new V1Volume { Name = "run", EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory", SizeLimit = new ResourceQuantity("1Mi") } },
            new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("64Mi") } },
        ];
        if (spec.InitContainers is not null)
        {
            spec.Volumes.Add(LayersVolume(readOnly: true));
        }

        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = InstanceNames.Pod(instanceId),
                Labels = InstanceLabels(instanceId, options.Release, limits.Owner, state),
                Annotations = Annotations(limits.Owner, state),
            },
            Spec = spec,
        };
    }

    /// <summary>A one-shot pod that archives a stopped instance's volume (mounted read-only) into the layer's archive.</summary>
    public V1Pod ArchivePod(string name, string volume, ChainKey key)
    {
        var pod = ArchiverPod(name, key,
            ArchiverContainer("archive", ArchiveScript, [DataMount, LayersMount, InstanceNames.Layer(key), name], DataVolumeMount(readOnly: true), LayersVolumeMount(readOnly: false)));
        pod.Spec.Volumes.Add(new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = volume, ReadOnlyProperty = true } });
        return pod;
    }

    /// <summary>A one-shot pod that removes a layer's archive, and sweeps leftovers older than an hour that no layer in <paramref name="kept"/> names.</summary>
    public V1Pod RemoveArchivePod(string name, ChainKey key, IEnumerable<ChainKey> kept) =>
        ArchiverPod(name, key, ArchiverContainer("remove", RemoveScript, [LayersMount, InstanceNames.Layer(key), .. kept.Select(InstanceNames.Layer)], LayersVolumeMount(readOnly: false)));

    private V1Pod ArchiverPod(string name, ChainKey key, V1Container container)
    {
        var spec = PodSpec("Never", 10);
        spec.Containers = [container];
        spec.Volumes = [LayersVolume(readOnly: false)];
        var labels = InstanceNames.Labels(InstanceNames.ArchiverComponent, options.Release);
        labels[InstanceNames.StateLabel] = key.Short;
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = name, Labels = labels, Annotations = new Dictionary<string, string> { [InstanceNames.ChainKeyAnnotation] = key.ToString() } },
            Spec = spec,
        };
    }

    /// <summary>
    /// A container of the instance image that runs <paramref name="script"/> on the layers' volume (and an
    /// instance's volume). No readiness probe: it runs to its end, and what it reports is its termination
    /// message (the tail of its log when it fails without one).
    /// </summary>
    private V1Container ArchiverContainer(string name, string script, IList<string> args, params V1VolumeMount[] mounts) => new()
    {
        Name = name,
        Image = options.InstanceImage,
        ImagePullPolicy = options.ImagePullPolicy,
        Command = ["/bin/sh", "-c", script, "taidon-" + name],
        Args = args,
        SecurityContext = ContainerSecurity(),
        Resources = new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("50m"), ["memory"] = new("64Mi") },
            Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("1"), ["memory"] = new("256Mi") },
        },
        TerminationMessagePath = TerminationLog,
        TerminationMessagePolicy = "FallbackToLogsOnError",
        VolumeMounts = mounts,
    };

    private static V1VolumeMount DataVolumeMount(bool readOnly) => new() { Name = "data", MountPath = DataMount, ReadOnlyProperty = readOnly ? true : null };

    private static V1VolumeMount LayersVolumeMount(bool readOnly) => new() { Name = "layers", MountPath = LayersMount, ReadOnlyProperty = readOnly ? true : null };

    private V1Volume LayersVolume(bool readOnly) => new()
    {
        Name = "layers",
        PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = options.LayersClaim, ReadOnlyProperty = readOnly ? true : null },
    };

    private static V1SecurityContext ContainerSecurity() => new()
    {
        AllowPrivilegeEscalation = false,
        Privileged = false,
        ReadOnlyRootFilesystem = true,
        RunAsNonRoot = true,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    /// <summary>What every pod of the runtime shares: the PostgreSQL account, no API token, the instances' nodes.</summary>
    private V1PodSpec PodSpec(string restartPolicy, long gracePeriodSeconds) => new()
    {
        AutomountServiceAccountToken = false,
        EnableServiceLinks = false,
        RestartPolicy = restartPolicy,
        TerminationGracePeriodSeconds = gracePeriodSeconds,
        SecurityContext = new V1PodSecurityContext
        {
            RunAsNonRoot = true,
            RunAsUser = PostgresUser,
            RunAsGroup = PostgresUser,
            FsGroup = PostgresUser,
            FsGroupChangePolicy = "OnRootMismatch",
            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
        },
        Affinity = options.NodeLabels().Count == 0 ? null : new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                {
                    NodeSelectorTerms =
                    [
                        new V1NodeSelectorTerm
                        {
                            MatchExpressions = [.. options.NodeLabels().OrderBy(p => p.Key, StringComparer.Ordinal)
                                .Select(p => new V1NodeSelectorRequirement { Key = p.Key, OperatorProperty = "In", Values = [p.Value] })],
                        },
                    ],
                },
            },
        },
        ImagePullSecrets = options.ImagePullSecrets.Count == 0 ? null : [.. options.ImagePullSecrets.Select(name => new V1LocalObjectReference { Name = name })],
        Tolerations = options.Tolerations.Count == 0 ? null : [.. options.Tolerations.Select(t => new V1Toleration
        {
            Key = t.Key,
            OperatorProperty = t.Operator,
            Value = t.Operator == "Exists" ? null : t.Value,
            Effect = string.IsNullOrEmpty(t.Effect) ? null : t.Effect,
        })],
    };

    /// <summary>
    /// What the container runs. On an empty volume (only when the base state is built) it makes the
    /// cluster: the student role, its working database, nothing else reachable. Every start then sets the
    /// student's password from the instance's Secret (a layer carries another instance's) in single-user
    /// mode, before any connection is possible, and starts PostgreSQL with the instance's settings.
    /// </summary>
    public const string StartScript = """
        set -eu
        umask 077
        if [ ! -s "$PGDATA/PG_VERSION" ]; then
          # Built aside and moved into place whole: a start that dies half-way leaves no half-made cluster.
          rm -rf "$PGDATA" "$PGDATA.init"
          initdb --pgdata="$PGDATA.init" --username=postgres --auth-local=peer --auth-host=reject --encoding=UTF8 --no-locale --wal-segsize=1 --no-instructions >/dev/null
          printf 'local all postgres peer\nhost workspace student all scram-sha-256\n' > "$PGDATA.init/pg_hba.conf"
          postgres --single -D "$PGDATA.init" -c exit_on_error=on -c password_encryption=scram-sha-256 postgres >/dev/null <<'SQL'
        CREATE ROLE student LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
        CREATE DATABASE workspace OWNER student
        REVOKE ALL ON DATABASE postgres FROM PUBLIC
        REVOKE ALL ON DATABASE template1 FROM PUBLIC
        SQL
          mv "$PGDATA.init" "$PGDATA"
        fi
        # A volume's fsGroup handling may have opened the directory to the group; PostgreSQL refuses that.
        chmod 0700 "$PGDATA"
        # The password never reaches a log: a failing statement is not logged with its text.
        printf "ALTER ROLE student PASSWORD '%s' CONNECTION LIMIT %s\n" "$TAIDON_STUDENT_PASSWORD" "$TAIDON_MAX_CONNECTIONS" \
          | postgres --single -D "$PGDATA" -c exit_on_error=on -c log_min_error_statement=panic -c password_encryption=scram-sha-256 postgres >/dev/null
        exec postgres -D "$PGDATA" "$@"
        """;

    /// <summary>
    /// Archives a stopped instance's volume ($1, read-only) into $2/$3.tar: written aside under a name of this
    /// pod's own ($4: two replicas may archive one key at once) and renamed into place whole, then its size in
    /// bytes is the termination message. ext4's lost+found (root's, unreadable) and the marker
    /// <c>.taidon-layer</c> (<see cref="UnpackScript"/>) are not the instance's state.
    /// </summary>
    public const string ArchiveScript = """
        set -eu
        part="$2/$3.tar.$4.part"
        trap 'rm -f "$part"' EXIT
        tar -C "$1" --exclude=./lost+found --exclude=./.taidon-layer -cf "$part" .
        sync "$part"
        mv -f "$part" "$2/$3.tar"
        wc -c < "$2/$3.tar" | tr -d ' ' > /dev/termination-log
        """;

    /// <summary>
    /// Unpacks the layer $3 from $2/$3.tar into the new volume $1, once: the marker says it was (later starts,
    /// and starts after the layer was evicted, skip it). A start that died half-way unpacks again over it.
    /// </summary>
    public const string UnpackScript = """
        set -eu
        if [ "$(cat "$1/.taidon-layer" 2>/dev/null)" = "$3" ]; then exit 0; fi
        if [ ! -f "$2/$3.tar" ]; then
          echo "The archive $3.tar is not on the layers' volume (the layer was removed): restore another layer, or replay." > /dev/termination-log
          exit 1
        fi
        tar -C "$1" -xf "$2/$3.tar"
        printf '%s\n' "$3" > "$1/.taidon-layer"
        """;

    /// <summary>
    /// Removes the archive of the layer $2 from $1. Also the sweep of leftovers: archives no layer names (the
    /// rest of the arguments; a removal whose pod failed) and parts of captures that died, once an hour old,
    /// so that a capture in progress, whose record is not made yet, is left alone.
    /// </summary>
    public const string RemoveScript = """
        set -eu
        cd "$1"
        rm -f -- "$2.tar"
        shift 2
        for f in layer-*.tar *.part; do
          [ -e "$f" ] || continue
          for kept in "$@"; do
            if [ "$f" = "$kept.tar" ]; then continue 2; fi
          done
          if [ -n "$(find "$f" -maxdepth 0 -mmin +60)" ]; then rm -f -- "$f"; fi
        done
        """;

    /// <summary>
    /// Before the kubelet's signal: a fast shutdown (sessions are cut, a checkpoint is written), then the
    /// volume's file system is flushed. With fsync off the checkpoint is in the node's page cache, and a
    /// CSI snapshot of a block volume is cut from the device, so the flush is what makes a layer whole.
    /// </summary>
    public const string StopScript = "pg_ctl stop --pgdata=" + DataDirectory + " --mode=fast --wait --timeout=25; sync -f " + DataDirectory;

    /// <summary>
    /// The server's settings: those every instance shares on the embedded runtime (no autovacuum,
    /// little WAL, durability traded for speed: a sandbox is rebuilt from its chain), and the quota's.
    /// A layer is taken from a stopped pod whose volume was flushed on the way down (<see cref="StopScript"/>).
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> PostgresSettings(InstanceLimits limits) =>
    [
        new("listen_addresses", "*"),
        new("port", Port.ToString(CultureInfo.InvariantCulture)),
        new("unix_socket_directories", "/var/run/postgresql"),
        new("shared_buffers", "16MB"),
        new("fsync", "off"),
        new("synchronous_commit", "off"),
        new("full_page_writes", "off"),
        new("autovacuum", "off"),
        new("wal_level", "minimal"),
        new("max_wal_senders", "0"),
        new("min_wal_size", "2MB"),
        new("max_wal_size", "64MB"),
        new("password_encryption", "scram-sha-256"),
        new("max_connections", (limits.MaxConnections + 3).ToString(CultureInfo.InvariantCulture)),
        new("statement_timeout", ((long)limits.EffectiveStatementTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)),
        new("idle_in_transaction_session_timeout", ((long)limits.EffectiveIdleInTransactionTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)),
        new("temp_file_limit", (limits.TempFileLimitBytes / 1024).ToString(CultureInfo.InvariantCulture) + "kB"),
        new("work_mem", limits.WorkMemKilobytes.ToString(CultureInfo.InvariantCulture) + "kB"),
    ];

    /// <summary>
    /// The quota's CPU and memory as the limits; the CPU request is a quarter of it (at least 50m), since
    /// a class's instances are idle most of the time; memory is requested whole, as it cannot be taken back.
    /// </summary>
    public static V1ResourceRequirements Resources(InstanceLimits limits)
    {
        var millicores = Quota.Millicores(limits.Cpu) ?? 1000;
        return new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity>
            {
                ["cpu"] = new(Math.Max(50, millicores / 4).ToString(CultureInfo.InvariantCulture) + "m"),
                ["memory"] = new(limits.Memory),
            },
            Limits = new Dictionary<string, ResourceQuantity>
            {
                ["cpu"] = new(millicores.ToString(CultureInfo.InvariantCulture) + "m"),
                ["memory"] = new(limits.Memory),
            },
        };
    }

    public static Dictionary<string, string> InstanceLabels(Guid instanceId, string release, string? owner, ChainKey? state)
    {
        var labels = InstanceNames.Labels(InstanceNames.InstanceComponent, release);
        labels[InstanceNames.InstanceLabel] = instanceId.ToString("N");
        if (owner is not null)
        {
            labels[InstanceNames.AccountLabel] = InstanceNames.LabelValue(owner);
        }

        if (state is { } key)
        {
            labels[InstanceNames.StateLabel] = key.Short;
        }

        return labels;
    }

    private static Dictionary<string, string> Annotations(string? owner, ChainKey? state, params (string Key, string Value)[] more)
    {
        var annotations = more.ToDictionary(p => p.Key, p => p.Value);
        if (owner is not null)
        {
            annotations[InstanceNames.AccountAnnotation] = owner;
        }

        if (state is { } key)
        {
            annotations[InstanceNames.StateAnnotation] = key.ToString();
        }

        return annotations;
    }
}
