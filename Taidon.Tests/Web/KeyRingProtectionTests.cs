using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Taidon.Core.Git;
using Taidon.Infrastructure.Identity;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Web;

/// <summary>
/// The Data Protection key ring (it signs the sign-in cookies and encrypts Git tokens) encrypted with a
/// certificate kept outside the control-plane database: the database alone no longer reads a token.
/// </summary>
[Collection(HostStartRefusals.Name)]
public sealed class KeyRingProtectionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("taidon-keyring-").FullName;

    [Fact]
    public async Task TheKeysAreEncryptedWithTheCertificateAndATokenIsReadOnlyWithItOrAfterItIsRetired()
    {
        var connection = await TestControlPlane.CreateDatabaseAsync("keyring");
        var (certificate, key) = WriteCertificate("first");

        await using (var app = new TaidonAppFactory(connection, Settings(certificate, key)))
        {
            await app.Services.GetRequiredService<IGitCredentialStore>().SaveAsync(await AdminAsync(app), "git.example.edu", "student", "glpat-secret", CancellationToken.None);

            await using var db = await app.Services.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
            var keys = await db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync();
            Assert.NotEmpty(keys);
            Assert.All(keys, xml =>
            {
                Assert.Contains("encryptedSecret", xml, StringComparison.Ordinal);
                Assert.DoesNotContain("<value>", xml, StringComparison.Ordinal);
            });
        }

        // Restarted with the same certificate: the token is read.
        await using (var app = new TaidonAppFactory(connection, Settings(certificate, key)))
        {
            Assert.Equal("glpat-secret", await TokenAsync(app));
        }

        // A new certificate with the first one retired (one file with its key): the token is still read.
        var (next, nextKey) = WriteCertificate("next");
        var retired = Path.Combine(_directory, "first-retired.pem");
        await File.WriteAllTextAsync(retired, await File.ReadAllTextAsync(certificate) + await File.ReadAllTextAsync(key));
        await using (var app = new TaidonAppFactory(connection, new Dictionary<string, string?>(Settings(next, nextKey)) { ["Taidon:DataProtection:RetiredCertificateFiles:0"] = retired }))
        {
            Assert.Equal("glpat-secret", await TokenAsync(app));
        }

        var keysBefore = await KeyCountAsync(connection);

        // Without the certificate the keys cannot be read: the app says so and does not start (it would make new keys and lose the old).
        await using (var app = new TaidonAppFactory(connection))
        {
            var refused = Assert.Throws<OptionsValidationException>(() => app.CreateClient());
            Assert.Contains("Data Protection keys in the control-plane database cannot be read without a certificate (Taidon:DataProtection:CertificateFile is not set)", refused.Message, StringComparison.Ordinal);
        }

        // Nor with another certificate that does not retire the first.
        await using (var app = new TaidonAppFactory(connection, Settings(next, nextKey)))
        {
            var refused = Assert.Throws<OptionsValidationException>(() => app.CreateClient());
            Assert.Contains("list the certificate that encrypted them in Taidon:DataProtection:RetiredCertificateFiles", refused.Message, StringComparison.Ordinal);
        }

        // The refused starts made no key of their own (an unencrypted one that would later become the default).
        Assert.Equal(keysBefore, await KeyCountAsync(connection));

        // Started over as the message says (the keys deleted): a copy of the database alone reads no token, and the student is told what to do.
        await using (var db = Database(connection))
        {
            await db.DataProtectionKeys.ExecuteDeleteAsync();
        }

        await using (var app = new TaidonAppFactory(connection))
        {
            var refused = await Assert.ThrowsAsync<GitProblemException>(() => TokenAsync(app));
            Assert.Equal(GitProblem.Unauthorized, refused.Problem);
            Assert.Contains("can no longer be read", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("glpat", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ACertificateThatCannotBeReadStopsTheStartNamingTheSetting()
    {
        var missing = Path.Combine(_directory, "missing.crt");
        await using var app = await TaidonAppFactory.CreateAsync("keyringmissing", new Dictionary<string, string?> { ["Taidon:DataProtection:CertificateFile"] = missing });

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains($"Taidon:DataProtection:CertificateFile ({missing}) could not be read as a PEM certificate with its private key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACertificateWithoutItsPrivateKeyStopsTheStart()
    {
        var (certificate, _) = WriteCertificate("public-only");
        await using var app = await TaidonAppFactory.CreateAsync("keyringpublic", new Dictionary<string, string?> { ["Taidon:DataProtection:CertificateFile"] = certificate });

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains("Taidon:DataProtection:CertificateFile", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Dictionary<string, string?> Settings(string certificate, string key) => new()
    {
        ["Taidon:DataProtection:CertificateFile"] = certificate,
        ["Taidon:DataProtection:KeyFile"] = key,
    };

    private static ControlPlaneDbContext Database(string connection) =>
        new(new DbContextOptionsBuilder<ControlPlaneDbContext>().UseNpgsql(connection).Options);

    private static async Task<int> KeyCountAsync(string connection)
    {
        await using var db = Database(connection);
        return await db.DataProtectionKeys.CountAsync();
    }

    private static async Task<string> AdminAsync(TaidonAppFactory app)
    {
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<TaidonUser>>();
        return (await users.FindByEmailAsync(TaidonAppFactory.AdminEmail))!.Id;
    }

    private static async Task<string> TokenAsync(TaidonAppFactory app) =>
        (await app.Services.GetRequiredService<IGitCredentialStore>().FindAsync(await AdminAsync(app), "git.example.edu", CancellationToken.None))!.Token;

    // A self-signed RSA certificate and its key as PEM files, as `openssl req -x509 -newkey rsa:3072` makes them.
    private (string Certificate, string Key) WriteCertificate(string name)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN=Taidon key ring {name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var certificateFile = Path.Combine(_directory, $"{name}.crt");
        var keyFile = Path.Combine(_directory, $"{name}.key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem() + "\n", System.Text.Encoding.ASCII);
        File.WriteAllText(keyFile, rsa.ExportPkcs8PrivateKeyPem() + "\n", System.Text.Encoding.ASCII);
        return (certificateFile, keyFile);
    }
}
