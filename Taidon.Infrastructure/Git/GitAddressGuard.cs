using System.Net;
using System.Net.Sockets;
using Taidon.Core.Git;

namespace Taidon.Infrastructure.Git;

/// <summary>A Git remote's address the policy refuses; the words name the reason and the setting that would allow it.</summary>
public sealed class GitAddressRefusedException(string reason)
    : Exception($"This address is not allowed: {reason}; an admin can allow the host in Taidon:Git:AllowedHosts.");

/// <summary>
/// Connects Git's HTTP to a remote only at a checked address: the name is looked up once, every
/// address it gives is checked (<see cref="GitAddressPolicy"/>), and the socket connects to the
/// address that was checked, so a name that answers differently a moment later (DNS rebinding)
/// cannot move the connection. Hosts of <c>Taidon:Git:AllowedHosts</c> skip the check.
/// </summary>
public sealed class GitAddressGuard(GitAllowedHosts allowed, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null, Func<IPAddress, string?>? refusal = null)
{
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve = resolve ?? Dns.GetHostAddressesAsync;
    private readonly Func<IPAddress, string?> _refusal = refusal ?? GitAddressPolicy.RefusalOf;

    public bool Allows(string host, int port) => allowed.Allows(host, port);

    /// <summary>Refuses a URL whose host is refused by its name or by its literal address (before anything is looked up or made).</summary>
    public void CheckUrl(Uri remote)
    {
        if (allowed.Allows(remote.Host, remote.Port))
        {
            return;
        }

        if (GitAddressPolicy.RefusalOfName(remote.IdnHost) is { } name)
        {
            throw new GitAddressRefusedException(name);
        }

        if (IPAddress.TryParse(remote.IdnHost.Trim('[', ']'), out var literal) && _refusal(literal) is { } address)
        {
            throw new GitAddressRefusedException(address);
        }
    }

    /// <summary>The addresses of a host once checked: every one must be allowed (a name giving a public and a private address is refused).</summary>
    public async Task<IPAddress[]> ResolveAsync(string host, int port, CancellationToken cancellationToken)
    {
        var bare = host.Trim('[', ']');
        var literal = IPAddress.TryParse(bare, out var parsed) ? parsed : null;
        var isAllowed = allowed.Allows(literal?.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{bare}]" : bare, port);
        if (!isAllowed && literal is null && GitAddressPolicy.RefusalOfName(bare) is { } name)
        {
            throw new GitAddressRefusedException(name);
        }

        var addresses = literal is not null ? [literal] : await _resolve(bare, cancellationToken);
        if (isAllowed)
        {
            return addresses;
        }

        foreach (var address in addresses)
        {
            if (_refusal(address) is { } refusal)
            {
                throw new GitAddressRefusedException(literal is not null ? refusal : $"{bare} resolves to an address that is not allowed ({refusal})");
            }
        }

        return addresses.Length > 0 ? addresses : throw new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>For <see cref="SocketsHttpHandler.ConnectCallback"/>: a socket connected to a checked address of the request's host.</summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(endPoint.Host, endPoint.Port, cancellationToken);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }
}
