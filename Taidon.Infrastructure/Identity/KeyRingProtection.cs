using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
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
