using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Taidon.Tests.Kubernetes.Crds;

namespace Taidon.Tests.Kubernetes;

/// <summary>
/// A Kubernetes API server on loopback for the runtime's tests: real HTTP that KubernetesClient talks
/// to, storing objects by path (core <c>/api/v1</c> and group <c>/apis/…</c> namespaced resources) with
/// resource versions, label and field selectors, 404 and 409, merge patches, and watches that stream
/// events from a resource version. Every request is recorded. Small controllers stand in for the kubelet
/// (a pod becomes ready, or fails for a listed image; deletion is graceful; with a <see cref="ProcessKubelet"/>,
/// init containers and one-shot pods run to their end and report as the kubelet does) and the CSI snapshotter (a
/// VolumeSnapshot is cut and ready, or fails for a listed class); a cluster without the snapshot API is a switch. VolumeSnapshots are checked against the
/// CRD's schema as the real API server would.
/// </summary>
public sealed class FakeKubernetesApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private readonly List<(long Version, string Collection, string Type, JsonObject Object)> _events = [];
    private readonly List<(string Collection, Channel<(long, string, JsonObject)> Channel)> _watchers = [];
    private long _oldestWatchable;
    private readonly ConcurrentQueue<(string Method, string PathPart, HttpStatusCode Status, int? RetryAfterSeconds)> _faults = new();
    private readonly CrdSchema _volumeSnapshotSchema = CrdSchema.Load(
        Path.Combine(Support.Repository.Root, "Taidon.Tests", "Kubernetes", "Crds", "snapshot.storage.k8s.io_volumesnapshots.yaml"), "v1");

    private long _version = 100;
    private int _podAddresses;

    private FakeKubernetesApi(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>Every request: method, path with query, and the body when there was one.</summary>
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>Pods with these images never start (the kubelet reports ErrImagePull).</summary>
    public HashSet<string> FailingImages { get; } = [];

    /// <summary>Snapshots of these classes fail (the snapshotter sets status.error).</summary>
    public HashSet<string> FailingSnapshotClasses { get; } = [];

    /// <summary>The most pods that were created and not yet running at one moment (the clients' start bound, seen from the server).</summary>
    public int MostPodsStartingAtOnce { get; private set; }

    /// <summary>Whether the kubelet stand-in starts pods at all (off: pods stay Pending).</summary>
    public bool KubeletRuns { get; set; } = true;

    /// <summary>When set, pods run as real processes on this machine and volumes and snapshots are directories (see <see cref="ProcessKubelet"/>).</summary>
    public ProcessKubelet? Node { get; set; }

    /// <summary>Whether the cluster has the snapshot API (off: as k3s with local-path, every snapshot path is 404).</summary>
    public bool SnapshotApi { get; set; } = true;

    /// <summary>How long the server keeps a watch open (the client watches again after).</summary>
    public TimeSpan WatchLifetime { get; set; } = TimeSpan.FromMinutes(5);

    public static async Task<FakeKubernetesApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var api = new FakeKubernetesApi(app);
        app.Run(api.HandleAsync);
        await app.StartAsync();
        api.Url = new Uri(app.Urls.First());
        return api;
    }

    /// <summary>A kubeconfig file pointing at this server (plain HTTP, no credentials).</summary>
    public string WriteKubeconfig(string directory)
    {
        var path = Path.Combine(directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {Url.ToString().TrimEnd('/')}
            users:
            - name: fake
              user:
                token: fake-token
            contexts:
            - name: fake
              context:
                cluster: fake
                user: fake
            current-context: fake
            """);
        return path;
    }

    /// <summary>
    /// The next <paramref name="count"/> requests with this method whose path contains <paramref name="pathPart"/> fail with
    /// <paramref name="status"/>, saying <c>Retry-After</c> when given (as API Priority and Fairness does with its 429s).
    /// </summary>
    public void Fail(string method, string pathPart, HttpStatusCode status, int count = 1, int? retryAfterSeconds = null)
    {
        for (var i = 0; i < count; i++)
        {
            _faults.Enqueue((method, pathPart, status, retryAfterSeconds));
        }
    }

    /// <summary>
    /// As an API server whose watch cache moved on: every open watch gets an ERROR event (410 Gone) and
    /// ends, and a watch from an older resource version is answered the same way; clients must list again.
    /// </summary>
    public void ExpireWatches()
    {
        lock (_gate)
        {
            _oldestWatchable = ++_version; // other objects changed meanwhile, and the history before is compacted
            var gone = new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["reason"] = "Expired", ["code"] = 410, ["message"] = "too old resource version" };
            foreach (var watcher in _watchers)
            {
                watcher.Channel.Writer.TryWrite((0, "ERROR", gone));
                watcher.Channel.Writer.TryComplete();
            }
        }
    }

    /// <summary>The stored object, or null.</summary>
    public JsonObject? Find(string collection, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue(collection + "/" + name, out var found) ? (JsonObject)found.DeepClone() : null;
        }
    }

    /// <summary>The stored objects of a collection path, e.g. <c>/api/v1/namespaces/x/pods</c>.</summary>
    public IReadOnlyList<JsonObject> List(string collection)
    {
        lock (_gate)
        {
            return [.. _objects.Where(o => o.Key.StartsWith(collection + "/", StringComparison.Ordinal) && !o.Key[(collection.Length + 1)..].Contains('/'))
                .Select(o => (JsonObject)o.Value.DeepClone())];
        }
    }

    /// <summary>Stores an object as a client's create would (for the state a test starts from).</summary>
    public JsonObject Put(string collection, JsonObject obj)
    {
        lock (_gate)
        {
            return Store(collection, obj, "ADDED");
        }
    }

    /// <summary>Changes a stored object as a controller would, e.g. a pod's status.</summary>
    public void Update(string collection, string name, Action<JsonObject> change)
    {
        lock (_gate)
        {
            if (!_objects.TryGetValue(collection + "/" + name, out var obj))
            {
                return; // deleted meanwhile
            }

            change(obj);
            Store(collection, obj, "MODIFIED");
        }
    }

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string? body = null;
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            using var reader = new StreamReader(request.Body);
            body = await reader.ReadToEndAsync();
        }

        Requests.Enqueue(new RecordedRequest(request.Method, request.Path + request.QueryString, body is null ? null : JsonNode.Parse(body)));
        if (_faults.TryPeek(out var fault) && fault.Method == request.Method && (request.Path + request.QueryString).Contains(fault.PathPart, StringComparison.Ordinal))
        {
            _faults.TryDequeue(out _);
            if (fault.RetryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            await WriteStatusAsync(context, fault.Status, fault.Status == HttpStatusCode.TooManyRequests ? "TooManyRequests" : "ServiceUnavailable", "injected failure");
            return;
        }

        var (collection, name) = Route(request.Path.Value ?? "");
        if (collection is null || (!SnapshotApi && collection.StartsWith("/apis/snapshot.storage.k8s.io/", StringComparison.Ordinal)))
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"the server could not find the requested resource {request.Path}");
            return;
        }

        switch (request.Method, name)
        {
            case ("GET", null) when request.Query["watch"] == "true" || request.Query["watch"] == "1":
                await WatchAsync(context, collection);
                return;
            case ("GET", null):
                await WriteListAsync(context, collection);
                return;
            case ("POST", null):
                await CreateAsync(context, collection, JsonNode.Parse(body!)!.AsObject());
                return;
            case ("GET", { } key):
                await WriteObjectAsync(context, Find(collection, key), collection, key);
                return;
            case ("PUT", { } key):
                await ReplaceAsync(context, collection, key, JsonNode.Parse(body!)!.AsObject());
                return;
            case ("PATCH", { } key):
                await PatchAsync(context, collection, key, JsonNode.Parse(body!)!.AsObject());
                return;
            case ("DELETE", { } key):
                await DeleteAsync(context, collection, key);
                return;
            default:
                await WriteStatusAsync(context, HttpStatusCode.MethodNotAllowed, "MethodNotAllowed", "not supported by the fake");
                return;
        }
    }

    /// <summary>"/api/v1/namespaces/n/pods/x" is ("/api/v1/namespaces/n/pods", "x"); group paths likewise.</summary>
    private static (string? Collection, string? Name) Route(string path)
    {
        var parts = path.Trim('/').Split('/');
        var prefix = parts.Length > 0 && parts[0] == "api" ? 2 : parts.Length > 0 && parts[0] == "apis" ? 3 : -1;
        if (prefix < 0 || parts.Length < prefix + 3 || parts[prefix] != "namespaces")
        {
            return (null, null);
        }

        var collection = "/" + string.Join('/', parts[..(prefix + 3)]);
        return parts.Length == prefix + 3 ? (collection, null) : parts.Length == prefix + 4 ? (collection, parts[prefix + 3]) : (null, null);
    }

    private async Task CreateAsync(HttpContext context, string collection, JsonObject obj)
    {
        var name = obj["metadata"]?["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name))
        {
            await WriteStatusAsync(context, HttpStatusCode.UnprocessableEntity, "Invalid", "metadata.name: Required value");
            return;
        }

        if (collection.EndsWith("/volumesnapshots", StringComparison.Ordinal) && _volumeSnapshotSchema.Problems(obj) is { Count: > 0 } problems)
        {
            await WriteStatusAsync(context, HttpStatusCode.UnprocessableEntity, "Invalid", string.Join("; ", problems));
            return;
        }

        if (Node is not null && collection.EndsWith("/persistentvolumeclaims", StringComparison.Ordinal) && Find(collection, name) is null)
        {
            await Node.CreateVolumeAsync(name, obj["spec"]?["dataSource"]?["name"]?.GetValue<string>());
        }

        JsonObject stored;
        lock (_gate)
        {
            if (_objects.ContainsKey(collection + "/" + name))
            {
                stored = null!;
            }
            else
            {
                stored = Store(collection, obj, "ADDED");
                if (collection.EndsWith("/pods", StringComparison.Ordinal))
                {
                    var starting = _objects.Where(o => o.Key.StartsWith(collection + "/", StringComparison.Ordinal)).Count(o => o.Value["status"]?["phase"]?.GetValue<string>() != "Running");
                    MostPodsStartingAtOnce = Math.Max(MostPodsStartingAtOnce, starting);
                }
            }
        }

        if (stored is null)
        {
            await WriteStatusAsync(context, HttpStatusCode.Conflict, "AlreadyExists", $"\"{name}\" already exists");
            return;
        }

        context.Response.StatusCode = 201;
        await WriteJsonAsync(context, stored);
        _ = Task.Run(() => ReactAsync(collection, name));
    }

    private async Task ReplaceAsync(HttpContext context, string collection, string name, JsonObject obj)
    {
        JsonObject? stored = null;
        lock (_gate)
        {
            if (_objects.TryGetValue(collection + "/" + name, out var existing))
            {
                obj["metadata"]!["uid"] = existing["metadata"]!["uid"]!.GetValue<string>();
                obj["metadata"]!["creationTimestamp"] = existing["metadata"]!["creationTimestamp"]!.GetValue<string>();
                stored = Store(collection, obj, "MODIFIED");
            }
        }

        await WriteObjectAsync(context, stored, collection, name);
    }

    private async Task PatchAsync(HttpContext context, string collection, string name, JsonObject patch)
    {
        JsonObject? stored = null;
        lock (_gate)
        {
            if (_objects.TryGetValue(collection + "/" + name, out var existing))
            {
                var merged = (JsonObject)existing.DeepClone();
                MergePatch(merged, patch);
                stored = Store(collection, merged, "MODIFIED");
            }
        }

        await WriteObjectAsync(context, stored, collection, name);
    }

    private async Task DeleteAsync(HttpContext context, string collection, string name)
    {
        var graceful = collection.EndsWith("/pods", StringComparison.Ordinal) && context.Request.Query["gracePeriodSeconds"] != "0" && KubeletRuns;
        JsonObject? answer = null;
        lock (_gate)
        {
            if (_objects.TryGetValue(collection + "/" + name, out var existing))
            {
                if (graceful && existing["metadata"]!["deletionTimestamp"] is null)
                {
                    existing["metadata"]!["deletionTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                    answer = Store(collection, existing, "MODIFIED");
                }
                else if (!graceful)
                {
                    answer = Remove(collection, name);
                }
                else
                {
                    answer = (JsonObject)existing.DeepClone();
                }
            }
        }

        if (answer is not null && Node is not null)
        {
            if (collection.EndsWith("/persistentvolumeclaims", StringComparison.Ordinal))
            {
                Node.DeleteVolume(name);
            }
            else if (collection.EndsWith("/volumesnapshots", StringComparison.Ordinal))
            {
                Node.DeleteSnapshot(name);
            }
            else if (collection.EndsWith("/pods", StringComparison.Ordinal) && !graceful)
            {
                await Node.StopPodAsync(answer, graceful: false);
            }
        }

        await WriteObjectAsync(context, answer, collection, name);
        if (answer is not null && graceful)
        {
            // The kubelet stops the container, unmounts the volume, and removes the pod.
            _ = Task.Run(async () =>
            {
                await Task.Delay(50);
                if (Node is not null)
                {
                    await Node.StopPodAsync(answer, graceful: true);
                }

                lock (_gate)
                {
                    if (_objects.ContainsKey(collection + "/" + name))
                    {
                        Remove(collection, name);
                    }
                }
            });
        }
    }

    /// <summary>The controllers' part: the kubelet starts a pod; the snapshotter cuts a snapshot; the API server turns stringData into data.</summary>
    private async Task ReactAsync(string collection, string name)
    {
        await Task.Delay(20);
        if (collection.EndsWith("/pods", StringComparison.Ordinal) && KubeletRuns && Node is not null)
        {
            var created = Find(collection, name);
            if (created is null)
            {
                return; // deleted meanwhile
            }

            var (address, failure, initFailure, ended) = await Node.StartPodAsync(created, (secret, key) => SecretValue(collection[..^"pods".Length] + "secrets", secret, key));
            var restarts = created["spec"]?["restartPolicy"]?.GetValue<string>() != "Never";
            Update(collection, name, pod => pod["status"] = initFailure is not null
                ? PodStatus(restarts ? "Pending" : "Failed", initFailure, pod["spec"]!["containers"]![0]!["name"]!.GetValue<string>())
                : ended is not null
                ? PodStatus(ended.ExitCode == 0 ? "Succeeded" : "Failed", null, null, ended)
                : address is not null
                ? new JsonObject
                {
                    ["phase"] = "Running",
                    ["podIP"] = address,
                    ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
                }
                : new JsonObject
                {
                    ["phase"] = "Running",
                    ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "False" }),
                    ["containerStatuses"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "postgres",
                        ["ready"] = false,
                        ["restartCount"] = 1,
                        ["image"] = "",
                        ["imageID"] = "",
                        ["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "CrashLoopBackOff", ["message"] = failure } },
                    }),
                });
        }
        else if (collection.EndsWith("/pods", StringComparison.Ordinal) && KubeletRuns)
        {
            Update(collection, name, pod =>
            {
                var image = pod["spec"]!["containers"]![0]!["image"]!.GetValue<string>();
                var address = Interlocked.Increment(ref _podAddresses);
                pod["status"] = FailingImages.Contains(image)
                    ? JsonNode.Parse($$$$"""
                        {"phase":"Pending","conditions":[{"type":"Ready","status":"False"}],
                         "containerStatuses":[{"name":"postgres","ready":false,"restartCount":0,"image":"{{{{image}}}}","imageID":"",
                           "state":{"waiting":{"reason":"ErrImagePull","message":"pull access denied for {{{{image}}}}"}}}]}
                        """)
                    : JsonNode.Parse($$$$"""
                        {"phase":"Running","podIP":"10.1.0.{{{{address % 250 + 2}}}}","conditions":[{"type":"Ready","status":"True"}],
                         "containerStatuses":[{"name":"postgres","ready":true,"restartCount":0,"image":"{{{{image}}}}","imageID":"","state":{"running":{}}}]}
                        """);
            });
        }
        else if (collection.EndsWith("/volumesnapshots", StringComparison.Ordinal))
        {
            var source = Find(collection, name)?["spec"]?["source"]?["persistentVolumeClaimName"]?.GetValue<string>();
            long? bytes = Node is not null && source is not null ? await Node.SnapshotAsync(source, name) : null;
            Update(collection, name, snapshot =>
            {
                var snapshotClass = snapshot["spec"]!["volumeSnapshotClassName"]?.GetValue<string>() ?? "";
                var now = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                snapshot["status"] = FailingSnapshotClasses.Contains(snapshotClass)
                    ? JsonNode.Parse($$$"""{"readyToUse":false,"error":{"message":"the CSI driver failed to cut the snapshot","time":"{{{now}}}"}}""")
                    : JsonNode.Parse($$$"""{"boundVolumeSnapshotContentName":"snapcontent-{{{name}}}","creationTime":"{{{now}}}","readyToUse":true,"restoreSize":"{{{bytes?.ToString(CultureInfo.InvariantCulture) ?? "1Gi"}}}"}""");
            });
        }
    }

    /// <summary>
    /// A pod whose init container failed (as the kubelet reports Init:Error: the container terminated, the main
    /// one waiting in PodInitializing), or whose one container ran to its end (Succeeded or Failed, terminated).
    /// </summary>
    private static JsonObject PodStatus(string phase, ContainerEnd? init, string? waiting, ContainerEnd? ended = null)
    {
        static JsonObject Terminated(ContainerEnd end) => new()
        {
            ["name"] = end.Name,
            ["ready"] = false,
            ["restartCount"] = 0,
            ["image"] = "",
            ["imageID"] = "",
            ["state"] = new JsonObject
            {
                ["terminated"] = new JsonObject { ["exitCode"] = end.ExitCode, ["reason"] = end.ExitCode == 0 ? "Completed" : "Error", ["message"] = end.Message },
            },
        };

        var status = new JsonObject { ["phase"] = phase, ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "False" }) };
        if (init is not null)
        {
            status["initContainerStatuses"] = new JsonArray(Terminated(init));
            status["containerStatuses"] = new JsonArray(new JsonObject
            {
                ["name"] = waiting,
                ["ready"] = false,
                ["restartCount"] = 0,
                ["image"] = "",
                ["imageID"] = "",
                ["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "PodInitializing" } },
            });
        }
        else if (ended is not null)
        {
            status["containerStatuses"] = new JsonArray(Terminated(ended));
        }

        return status;
    }

    /// <summary>A Secret's value in the pods' namespace, as the kubelet resolves secretKeyRef.</summary>
    private string? SecretValue(string collection, string name, string key) =>
        Find(collection, name)?["data"]?[key]?.GetValue<string>() is { } value
            ? Encoding.UTF8.GetString(Convert.FromBase64String(value))
            : null;

    private JsonObject Store(string collection, JsonObject obj, string type)
    {
        var version = ++_version;
        var metadata = obj["metadata"] as JsonObject ?? [];
        obj["metadata"] = metadata;
        metadata["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
        metadata["namespace"] = collection.Split('/')[^2];
        metadata["uid"] ??= Guid.NewGuid().ToString();
        metadata["creationTimestamp"] ??= DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        if (obj["stringData"] is JsonObject strings)
        {
            var data = obj["data"] as JsonObject ?? [];
            foreach (var (key, value) in strings)
            {
                data[key] = Convert.ToBase64String(Encoding.UTF8.GetBytes(value!.GetValue<string>()));
            }

            obj["data"] = data;
            obj.Remove("stringData");
        }

        _objects[collection + "/" + metadata["name"]!.GetValue<string>()] = obj;
        Publish(version, collection, type, obj);
        return (JsonObject)obj.DeepClone();
    }

    private JsonObject Remove(string collection, string name)
    {
        var obj = _objects[collection + "/" + name];
        _objects.Remove(collection + "/" + name);
        var version = ++_version;
        obj["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
        Publish(version, collection, "DELETED", obj);
        return (JsonObject)obj.DeepClone();
    }

    private void Publish(long version, string collection, string type, JsonObject obj)
    {
        var copy = (JsonObject)obj.DeepClone();
        _events.Add((version, collection, type, copy));
        foreach (var watcher in _watchers.Where(w => w.Collection == collection))
        {
            watcher.Channel.Writer.TryWrite((version, type, copy));
        }
    }

    private async Task WatchAsync(HttpContext context, string collection)
    {
        var selector = Selector(context.Request);
        var channel = Channel.CreateUnbounded<(long, string, JsonObject)>();
        long.TryParse(context.Request.Query["resourceVersion"], out var since);
        lock (_gate)
        {
            if (since < _oldestWatchable)
            {
                channel.Writer.TryWrite((0, "ERROR", new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["reason"] = "Expired", ["code"] = 410, ["message"] = "too old resource version" }));
                channel.Writer.TryComplete();
            }

            foreach (var e in _events.Where(e => e.Collection == collection && e.Version > since))
            {
                channel.Writer.TryWrite((e.Version, e.Type, e.Object));
            }

            _watchers.Add((collection, channel));
        }

        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        lifetime.CancelAfter(WatchLifetime);
        try
        {
            await foreach (var (_, type, obj) in channel.Reader.ReadAllAsync(lifetime.Token))
            {
                if (type == "ERROR" || selector(obj))
                {
                    await context.Response.WriteAsync(new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() }.ToJsonString() + "\n", lifetime.Token);
                    await context.Response.Body.FlushAsync(lifetime.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The watch's time is up, or the client left.
        }
        finally
        {
            lock (_gate)
            {
                _watchers.RemoveAll(w => w.Channel == channel);
            }
        }
    }

    private async Task WriteListAsync(HttpContext context, string collection)
    {
        var selector = Selector(context.Request);
        JsonArray items;
        string version;
        lock (_gate)
        {
            items = [.. List(collection).Where(selector)];
            version = _version.ToString(CultureInfo.InvariantCulture);
        }

        await WriteJsonAsync(context, new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["metadata"] = new JsonObject { ["resourceVersion"] = version }, ["items"] = items });
    }

    /// <summary>Equality label selectors ("a=b,c=d") and the field selector metadata.name=x.</summary>
    private static Func<JsonObject, bool> Selector(HttpRequest request)
    {
        var labels = (request.Query["labelSelector"].ToString() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToList();
        var field = request.Query["fieldSelector"].ToString();
        return obj =>
            labels.All(p => obj["metadata"]?["labels"]?[p[0]]?.GetValue<string>() == p[1])
            && (string.IsNullOrEmpty(field) || !field.StartsWith("metadata.name=", StringComparison.Ordinal) || obj["metadata"]?["name"]?.GetValue<string>() == field["metadata.name=".Length..]);
    }

    private static void MergePatch(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch)
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject patchObject && target[key] is JsonObject targetObject)
            {
                MergePatch(targetObject, patchObject);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    private static async Task WriteObjectAsync(HttpContext context, JsonObject? obj, string collection, string name)
    {
        if (obj is null)
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"{collection.Split('/')[^1]} \"{name}\" not found");
            return;
        }

        await WriteJsonAsync(context, obj);
    }

    private static Task WriteStatusAsync(HttpContext context, HttpStatusCode status, string reason, string message)
    {
        context.Response.StatusCode = (int)status;
        return WriteJsonAsync(context, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = (int)status,
        });
    }

    private static Task WriteJsonAsync(HttpContext context, JsonNode node)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(node.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Channel.Writer.TryComplete();
            }
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record RecordedRequest(string Method, string Path, JsonNode? Body);

/// <summary>The namespace the Kubernetes tests put instances in, and the paths of its collections on the fake API.</summary>
public static class TestNamespace
{
    public const string Name = "taidon-instances";
    public const string Pods = "/api/v1/namespaces/" + Name + "/pods";
    public const string Volumes = "/api/v1/namespaces/" + Name + "/persistentvolumeclaims";
    public const string Secrets = "/api/v1/namespaces/" + Name + "/secrets";
    public const string Snapshots = "/apis/snapshot.storage.k8s.io/v1/namespaces/" + Name + "/volumesnapshots";
    public const string ConfigMaps = "/api/v1/namespaces/" + Name + "/configmaps";
}
