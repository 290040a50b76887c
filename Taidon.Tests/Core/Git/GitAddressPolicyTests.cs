using System.Net;
using Taidon.Core.Git;

namespace Taidon.Tests.Core.Git;

public sealed class GitAddressPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.9", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("10.1.2.3", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.254", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("fc00::1", "private")]
    [InlineData("fd12:3456::1", "private")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("169.254.0.1", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("100.64.0.1", "carrier-grade NAT")]
    [InlineData("100.127.255.255", "carrier-grade NAT")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("0.1.2.3", "this network")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("239.255.255.250", "multicast")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("240.0.0.1", "reserved")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:169.254.169.254", "link-local")]
    [InlineData("::ffff:10.0.0.1", "private")]
    [InlineData("::127.0.0.1", "IPv4-compatible")]
    [InlineData("64:ff9b::a00:1", "private")]
    [InlineData("2002:7f00:1::", "loopback")]
    [InlineData("fec0::1", "site-local")]
    public void AnAddressThatIsNotPublicIsRefusedSayingWhatItIs(string address, string reason)
    {
        var refusal = GitAddressPolicy.RefusalOf(IPAddress.Parse(address));

        Assert.NotNull(refusal);
        Assert.Contains(reason, refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("140.82.121.4")]
    [InlineData("8.8.8.8")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.1")]
    [InlineData("169.253.1.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:140.82.121.4")]
    [InlineData("64:ff9b::8c52:7904")]
    public void APublicAddressIsAllowed(string address) =>
        Assert.Null(GitAddressPolicy.RefusalOf(IPAddress.Parse(address)));

    // Odd spellings of 127.0.0.1 and 169.254.169.254 as a URL may carry them: both the URL and the address parser read them as the address.
    [Theory]
    [InlineData("http://127.1/x.git")]
    [InlineData("http://0x7f000001/x.git")]
    [InlineData("http://2130706433/x.git")]
    [InlineData("http://0177.0.0.1/x.git")]
    [InlineData("http://0x7f.0.0.1/x.git")]
    [InlineData("http://[::ffff:127.0.0.1]/x.git")]
    [InlineData("http://[::ffff:7f00:1]/x.git")]
    [InlineData("http://0xa9fea9fe/x.git")]
    [InlineData("http://2852039166/x.git")]
    public void AnOddSpellingOfALoopbackOrMetadataAddressIsReadAsThatAddressAndRefused(string url)
    {
        var host = new Uri(url).IdnHost.Trim('[', ']');

        Assert.Null(GitAddressPolicy.RefusalOfName(host));
        Assert.True(IPAddress.TryParse(host, out var address), host);
        Assert.NotNull(GitAddressPolicy.RefusalOf(address));
    }

    [Theory]
    [InlineData("localhost", "this server")]
    [InlineData("LOCALHOST.", "this server")]
    [InlineData("db.localhost", "this server")]
    [InlineData("gitea", "no domain")]
    [InlineData("taidon-postgres.taidon.svc", ".svc")]
    [InlineData("kubernetes.default.svc.cluster.local", "cluster")]
    [InlineData("printer.local", ".local")]
    [InlineData("metadata.google.internal", ".internal")]
    [InlineData("1.2.3.4.5", "not a host name")]
    [InlineData("example.0x10", "not a host name")]
    public void AClusterOrLocalNameIsRefusedBeforeItIsLookedUp(string host, string reason)
    {
        var refusal = GitAddressPolicy.RefusalOfName(host);

        Assert.NotNull(refusal);
        Assert.Contains(reason, refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("github.com")]
    [InlineData("gitlab.example.edu")]
    [InlineData("git.school1.org")]
    public void APublicNameIsLookedUp(string host) => Assert.Null(GitAddressPolicy.RefusalOfName(host));

    [Fact]
    public void AnAllowedHostIsAllowedOnAnyPortOrOnTheOneNamed()
    {
        var allowed = new GitAllowedHosts(["Gitea.School.Internal", "10.0.0.5:3000", "[fd00::5]:8080"]);

        Assert.True(allowed.Allows("gitea.school.internal", 443));
        Assert.True(allowed.Allows("gitea.school.internal.", 3000));
        Assert.True(allowed.Allows("10.0.0.5", 3000));
        Assert.False(allowed.Allows("10.0.0.5", 3001));
        Assert.True(allowed.Allows("[fd00::5]", 8080));
        Assert.False(allowed.Allows("other.school.internal", 443));
    }

    [Theory]
    [InlineData("git.school.internal", true)]
    [InlineData("10.0.0.5:3000", true)]
    [InlineData("[fd00::5]:8080", true)]
    [InlineData("http://git.school.internal", false)]
    [InlineData("git.school.internal/path", false)]
    [InlineData("user@git.school.internal", false)]
    [InlineData("", false)]
    public void AnAllowedHostsEntryIsAHostOrHostAndPort(string entry, bool fine) =>
        Assert.Equal(fine, GitAllowedHosts.Problem(entry) is null);

    [Theory]
    [InlineData("https://github.com/a/b.git", "github.com")]
    [InlineData("https://git.example.edu:8443/a.git", "git.example.edu:8443")]
    [InlineData("http://github.com/a/b.git", "http://github.com")]
    [InlineData("http://127.0.0.1:8080/a.git", "http://127.0.0.1:8080")]
    public void ATokenIsKeptPerSchemeHostAndPortWithHttpsAsBefore(string remote, string key) =>
        Assert.Equal(key, GitCredentialKey.Of(new Uri(remote)));
}
