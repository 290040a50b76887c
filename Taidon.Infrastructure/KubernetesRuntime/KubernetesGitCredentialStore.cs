using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Taidon.Core.Git;
using Taidon.Infrastructure.Git;

namespace Taidon.Infrastructure.KubernetesRuntime;

/// <summary>
/// Git tokens on the Kubernetes runtime: one Secret per account and host in the instances namespace,
/// which only the app's service account may read (the chart's Role). The Secret's name is a hash of
/// both, so neither the account nor the host can be read from a listing of names.
/// </summary>
public sealed class KubernetesGitCredentialStore(IKubernetes client, KubernetesOptions options, TimeProvider clock, ILogger<KubernetesGitCredentialStore> logger) : IGitCredentialStore
{
    private const string HostAnnotation = "taidon.io/git-host";
    private const string UsernameAnnotation = "taidon.io/git-username";
    private const string SavedAtAnnotation = "taidon.io/saved-at";

    private string Namespace => options.Namespace!;

    public async Task SaveAsync(string accountId, string host, string username, string token, CancellationToken cancellationToken)
    {
        host = ProtectedGitCredentialStore.NormalizeHost(host);
        if (string.IsNullOrWhiteSpace(token) || token.Length > 4096)
        {
            throw new GitProblemException(GitProblem.Unauthorized, "A token has 1 to 4096 characters.");
        }

        username = string.IsNullOrWhiteSpace(username) ? "git" : username.Trim();
        var labels = InstanceNames.Labels(InstanceNames.GitCredentialComponent, options.Release);
        labels[InstanceNames.AccountLabel] = InstanceNames.LabelValue(accountId);
        var secret = new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = new V1ObjectMeta
            {
                Name = Name(accountId, host),
                Labels = labels,
                Annotations = new Dictionary<string, string>
                {
                    [InstanceNames.AccountAnnotation] = accountId,
                    [HostAnnotation] = host,
                    [UsernameAnnotation] = username,
                    [SavedAtAnnotation] = clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
                },
            },
            Type = "Opaque",
            Data = new Dictionary<string, byte[]> { ["username"] = Encoding.UTF8.GetBytes(username), ["token"] = Encoding.UTF8.GetBytes(token.Trim()) },
        };
        try
        {
            await KubernetesCalls.RetryAsync(c => client.CoreV1.CreateNamespacedSecretAsync(secret, Namespace, cancellationToken: c), logger, "save a Git token", cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            await KubernetesCalls.RetryAsync(c => client.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, Namespace, cancellationToken: c), logger, "replace a Git token", cancellationToken);
        }
    }

    public async Task<GitCredential?> FindAsync(string accountId, string host, CancellationToken cancellationToken)
    {
        var secret = await KubernetesCalls.FindAsync(c => client.CoreV1.ReadNamespacedSecretAsync(Name(accountId, ProtectedGitCredentialStore.NormalizeHost(host)), Namespace, cancellationToken: c),
            logger, "read a Git token", cancellationToken);
        return secret is null || InstanceNames.ValueOf(secret.Metadata.Annotations, InstanceNames.AccountAnnotation) != accountId
            ? null
            : new GitCredential(InstanceNames.ValueOf(secret, "username") ?? "git", InstanceNames.ValueOf(secret, "token") ?? "");
    }

    public async Task<IReadOnlyList<GitCredentialInfo>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        var secrets = await KubernetesCalls.RetryAsync(
            c => client.CoreV1.ListNamespacedSecretAsync(Namespace,
                labelSelector: $"{InstanceNames.Selector(InstanceNames.GitCredentialComponent, options.Release)},{InstanceNames.AccountLabel}={InstanceNames.LabelValue(accountId)}", cancellationToken: c),
            logger, "list Git tokens", cancellationToken);
        return [.. secrets.Items
            .Select(s => s.Metadata.Annotations ?? new Dictionary<string, string>())
            .Where(a => InstanceNames.ValueOf(a, InstanceNames.AccountAnnotation) == accountId && a.ContainsKey(HostAnnotation))
            .Select(a => new GitCredentialInfo(a[HostAnnotation], InstanceNames.ValueOf(a, UsernameAnnotation) ?? "git",
                DateTimeOffset.TryParse(InstanceNames.ValueOf(a, SavedAtAnnotation), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.UnixEpoch))
            .OrderBy(c => c.Host, StringComparer.Ordinal)];
    }

    public Task DeleteAsync(string accountId, string host, CancellationToken cancellationToken) =>
        KubernetesCalls.DeleteAsync(c => client.CoreV1.DeleteNamespacedSecretAsync(Name(accountId, ProtectedGitCredentialStore.NormalizeHost(host)), Namespace, cancellationToken: c),
            logger, "delete a Git token", cancellationToken);

    public async Task DeleteAccountAsync(string accountId, CancellationToken cancellationToken)
    {
        foreach (var credential in await ListAsync(accountId, cancellationToken))
        {
            await DeleteAsync(accountId, credential.Host, cancellationToken);
        }
    }

    /// <summary>The Secret of an account's token for a host: <c>git-</c> and 40 hex digits of SHA-256 over both.</summary>
    public static string Name(string accountId, string host) =>
        "git-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(accountId + "\n" + host)))[..40];
}
