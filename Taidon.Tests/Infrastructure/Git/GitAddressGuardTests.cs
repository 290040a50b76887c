using System.Net;
using System.Net.Sockets;
using Taidon.Core.Git;
using Taidon.Infrastructure.Git;

namespace Taidon.Tests.Infrastructure.Git;

/// <summary>
/// The guard's connection against real sockets on loopback. A name's answers are given by a stand-in
/// resolver (a DNS server that changes its answer cannot run here); the policy stand-in allows exactly
/// one loopback address, as if it were a public one.
/// </summary>
public sealed class GitAddressGuardTests : IAsyncLifetime
{
    private static readonly IPAddress Checked = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress Other = IPAddress.Parse("127.0.0.3");

    private readonly TcpListener _checked = new(Checked, 0);
    private TcpListener _other = null!;
    private int _port;

    public Task InitializeAsync()
    {
        // Both on one port: a connection that went to the other address would land there.
        _checked.Start();
        _port = ((IPEndPoint)_checked.LocalEndpoint).Port;
        _other = new TcpListener(Other, _port);
        _other.Start();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _checked.Stop();
        _other.Stop();
        return Task.CompletedTask;
    }

    private static string? OnlyTheChecked(IPAddress address) => address.Equals(Checked) ? null : GitAddressPolicy.RefusalOf(address);

    [Fact]
    public async Task TheConnectionGoesToTheAddressThatWasCheckedAndTheNameIsLookedUpOnce()
    {
        // A rebinding name: the first answer passes the check, every later one is another address.
        var lookups = 0;
        var guard = new GitAddressGuard(GitAllowedHosts.None,
            (_, _) => Task.FromResult(Interlocked.Increment(ref lookups) == 1 ? new[] { Checked } : [Other]), OnlyTheChecked);

        await using var stream = (NetworkStream)await guard.ConnectAsync(new DnsEndPoint("rebind.example.org", _port), CancellationToken.None);
        using var accepted = await _checked.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(new IPEndPoint(Checked, _port), stream.Socket.RemoteEndPoint);
        Assert.Equal(1, lookups);
        Assert.False(_other.Pending());
    }

    [Fact]
    public async Task ANameThatAnswersARefusedAddressIsRefusedWithoutAConnection()
    {
        var guard = new GitAddressGuard(GitAllowedHosts.None, (_, _) => Task.FromResult(new[] { Other }), OnlyTheChecked);

        var refused = await Assert.ThrowsAsync<GitAddressRefusedException>(() => guard.ConnectAsync(new DnsEndPoint("rebind.example.org", _port), CancellationToken.None).AsTask());

        Assert.Contains("rebind.example.org resolves to an address that is not allowed (127.0.0.3 is a loopback address)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Taidon:Git:AllowedHosts", refused.Message, StringComparison.Ordinal);
        await Task.Delay(100);
        Assert.False(_other.Pending());
    }

    [Fact]
    public async Task ANameWithAPublicAndARefusedAddressIsRefused()
    {
        var guard = new GitAddressGuard(GitAllowedHosts.None, (_, _) => Task.FromResult(new[] { Checked, Other }), OnlyTheChecked);

        await Assert.ThrowsAsync<GitAddressRefusedException>(() => guard.ConnectAsync(new DnsEndPoint("both.example.org", _port), CancellationToken.None).AsTask());

        Assert.False(_checked.Pending());
        Assert.False(_other.Pending());
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("postgres.taidon.svc.cluster.local")]
    [InlineData("127.0.0.1")]
    [InlineData("[::ffff:127.0.0.1]")]
    [InlineData("169.254.169.254")]
    public async Task ALocalNameOrAddressIsRefusedWithoutBeingLookedUp(string host)
    {
        var lookups = 0;
        var guard = new GitAddressGuard(GitAllowedHosts.None, (_, _) =>
        {
            lookups++;
            return Task.FromResult(new[] { Checked });
        });

        await Assert.ThrowsAsync<GitAddressRefusedException>(() => guard.ConnectAsync(new DnsEndPoint(host, _port), CancellationToken.None).AsTask());

        Assert.Equal(0, lookups);
    }

    [Fact]
    public async Task AnAllowedHostIsReachedWhateverItsAddress()
    {
        var guard = new GitAddressGuard(new GitAllowedHosts([$"gitea:{_port}"]), (_, _) => Task.FromResult(new[] { Other }));

        await using var stream = (NetworkStream)await guard.ConnectAsync(new DnsEndPoint("gitea", _port), CancellationToken.None);

        Assert.Equal(new IPEndPoint(Other, _port), stream.Socket.RemoteEndPoint);
    }
}
