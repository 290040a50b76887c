using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Taidon.Infrastructure.Identity;

/// <summary>
/// Settings of <c>Taidon:DataProtection</c>: a certificate that encrypts the Data Protection key ring.
/// The keys (which sign the sign-in cookies and encrypt Git tokens) live in the control-plane database;
/// encrypted with a certificate kept elsewhere (a Kubernetes Secret, a file), a copy of the database
/// alone no longer forges a session or reads a token.
/// </summary>
public sealed class KeyRingProtectionOptions
{
    public const string SectionName = "Taidon:DataProtection";

    /// <summary>The certificate (PEM) whose public key encrypts new keys; empty leaves them unencrypted.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>Its private key (PEM); empty when <see cref="CertificateFile"/> holds both.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Earlier certificates (PEM, each with its private key): keys they encrypted can still be read after a change.</summary>
    public string[] RetiredCertificateFiles { get; set; } = [];
}

/// <summary>
/// Encrypts new Data Protection keys with the certificate of <see cref="KeyRingProtectionOptions"/> and reads
/// keys encrypted with it or a retired one. The files are read at start: one that cannot be read stops the
/// app, naming its setting.
/// </summary>
public static class KeyRingProtection
{
    public static IDataProtectionBuilder ProtectKeyRing(this IDataProtectionBuilder builder, IConfiguration configuration)
    {
        var options = configuration.GetSection(KeyRingProtectionOptions.SectionName).Get<KeyRingProtectionOptions>() ?? new KeyRingProtectionOptions();
        var current = string.IsNullOrWhiteSpace(options.CertificateFile)
            ? null
            : Read(options.CertificateFile, options.KeyFile, $"{KeyRingProtectionOptions.SectionName}:{nameof(options.CertificateFile)}");
        var retired = options.RetiredCertificateFiles
            .Select((file, index) => Read(file, null, $"{KeyRingProtectionOptions.SectionName}:{nameof(options.RetiredCertificateFiles)}:{index}"))
            .ToArray();
        if (current is not null)
        {
            builder.ProtectKeysWithCertificate(current);
        }

        X509Certificate2[] readable = [.. current is null ? [] : new[] { current }, .. retired];
        if (readable.Length > 0)
        {
            builder.UnprotectKeysWithAnyCertificate(readable);
        }

        return builder;
    }

    private static X509Certificate2 Read(string certificateFile, string? keyFile, string setting)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificateFile, string.IsNullOrWhiteSpace(keyFile) ? null : keyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw Refused($"{setting} ({certificateFile}{(string.IsNullOrWhiteSpace(keyFile) ? "" : $", key {keyFile}")}) could not be read as a PEM certificate with its private key: {e.Message}");
        }

        if (certificate.GetRSAPrivateKey() is null)
        {
            certificate.Dispose();
            throw Refused($"{setting} ({certificateFile}) is not an RSA certificate with its private key: Data Protection encrypts its keys with RSA (openssl req -x509 -newkey rsa:3072 ...).");
        }

        return certificate;
    }

    private static OptionsValidationException Refused(string message) =>
        new(KeyRingProtectionOptions.SectionName, typeof(KeyRingProtectionOptions), [message]);
}

/// <summary>
/// Refuses to start when keys in the database cannot be read with the configured certificates (the
/// certificate was left out or replaced without being retired). Started on, the app would make new keys:
/// every student signed out, and every saved Git token unreadable, without a word to the operator.
/// </summary>
public sealed class KeyRingCheck(IKeyManager keys, IConfiguration configuration, ILogger<KeyRingCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var all = keys.GetAllKeys().Where(k => !k.IsRevoked).ToList();
        var unreadable = all.Count(k => !Readable(k));
        if (unreadable > 0)
        {
            var certificate = configuration[$"{KeyRingProtectionOptions.SectionName}:{nameof(KeyRingProtectionOptions.CertificateFile)}"];
            throw new OptionsValidationException(KeyRingProtectionOptions.SectionName, typeof(KeyRingProtectionOptions),
            [
                $"{unreadable} of the {all.Count} Data Protection keys in the control-plane database cannot be read "
                + (string.IsNullOrWhiteSpace(certificate)
                    ? "without a certificate (Taidon:DataProtection:CertificateFile is not set): set the certificate that encrypted them."
                    : $"with the certificate {certificate} or a retired one: list the certificate that encrypted them in Taidon:DataProtection:RetiredCertificateFiles.")
                + " To start over with new keys instead (everyone signs in again, saved Git tokens must be saved again), delete the rows of the table data_protection_keys.",
            ]);
        }

        logger.LogDebug("The {Count} Data Protection keys are readable", all.Count);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static bool Readable(IKey key)
    {
        try
        {
            return key.Descriptor is not null;
        }
        catch (Exception e) when (e is CryptographicException or InvalidOperationException or System.Xml.XmlException)
        {
            return false;
        }
    }
}
