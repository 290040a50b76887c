using System.Net;
using System.Net.Sockets;

namespace Taidon.Core.Git;

/// <summary>
/// Which Git hosts the server may reach for a student: public addresses only. A URL a student types
/// (or a course link a visitor opens) must not make the server talk to itself, the cluster, the
/// cloud's metadata service or the school's private network; an admin names such hosts in
/// <c>Taidon:Git:AllowedHosts</c> when they are wanted (an on-premises Git server).
/// </summary>
public static class GitAddressPolicy
{
    /// <summary>Why a host name is refused before it is looked up (a name only the cluster or this machine knows), or null.</summary>
    public static string? RefusalOfName(string host)
    {
        var name = host.Trim().TrimEnd('.').ToLowerInvariant();
        if (name.StartsWith('[') || IPAddress.TryParse(name, out _))
        {
            return null;
        }

        if (name.Length == 0)
        {
            return "the host is empty";
        }

        if (name == "localhost" || name.EndsWith(".localhost", StringComparison.Ordinal))
        {
            return $"{name} is this server";
        }

        if (!name.Contains('.'))
        {
            return $"{name} is a name of the local network (it has no domain)";
        }

        foreach (var suffix in (string[])[".svc", ".cluster.local", ".local", ".internal", ".home.arpa"])
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                return $"{name} is a name of the cluster or the local network ({suffix})";
            }
        }

        // A name whose last label is a number is an IPv4 address the parser did not take (as in the URL standard).
        var last = name[(name.LastIndexOf('.') + 1)..];
        if (last.Length > 0 && (last.All(char.IsAsciiDigit) || (last.StartsWith("0x", StringComparison.Ordinal) && last[2..].All(char.IsAsciiHexDigit))))
        {
            return $"{name} is not a host name or an IPv4 address";
        }

        return null;
    }

    /// <summary>Why an address is refused (not a public unicast address), or null when the server may connect to it.</summary>
    public static string? RefusalOf(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return RefusalOfV6(address);
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return $"{address} is not an IP address";
        }

        var b = address.GetAddressBytes();
        return (b[0], b[1], b[2]) switch
        {
            (0, _, _) when b.All(x => x == 0) => $"{address} is the unspecified address",
            (0, _, _) => $"{address} is in 0.0.0.0/8 (this network)",
            (10, _, _) => $"{address} is a private address (10.0.0.0/8)",
            (100, >= 64 and <= 127, _) => $"{address} is a carrier-grade NAT address (100.64.0.0/10)",
            (127, _, _) => $"{address} is a loopback address",
            (169, 254, _) => $"{address} is a link-local address (169.254.0.0/16, where clouds serve instance metadata)",
            (172, >= 16 and <= 31, _) => $"{address} is a private address (172.16.0.0/12)",
            (192, 0, 0) => $"{address} is reserved for protocols (192.0.0.0/24)",
            (192, 168, _) => $"{address} is a private address (192.168.0.0/16)",
            (198, 18 or 19, _) => $"{address} is reserved for benchmarks (198.18.0.0/15)",
            _ when b[0] is >= 224 and <= 239 => $"{address} is a multicast address",
            _ when b.All(x => x == 255) => $"{address} is the broadcast address",
            _ when b[0] >= 240 => $"{address} is reserved (240.0.0.0/4)",
            _ => null,
        };
    }

    private static string? RefusalOfV6(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return RefusalOf(address.MapToIPv4()) is { } refusal ? $"{address} is {address.MapToIPv4()} written as IPv6: {refusal}" : null;
        }

        var b = address.GetAddressBytes();
        if (address.Equals(IPAddress.IPv6Any))
        {
            return $"{address} is the unspecified address";
        }

        if (address.Equals(IPAddress.IPv6Loopback))
        {
            return $"{address} is a loopback address";
        }

        // IPv4 addresses inside IPv6: compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
        if (b.Take(12).All(x => x == 0))
        {
            return $"{address} is an IPv4-compatible address (deprecated)";
        }

        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.Skip(4).Take(8).All(x => x == 0))
        {
            var inner = new IPAddress(b[12..16]);
            return RefusalOf(inner) is { } refusal ? $"{address} is {inner} through NAT64: {refusal}" : null;
        }

        if (b[0] == 0x20 && b[1] == 0x02)
        {
            var inner = new IPAddress(b[2..6]);
            return RefusalOf(inner) is { } refusal ? $"{address} is {inner} through 6to4: {refusal}" : null;
        }

        return b[0] switch
        {
            0xff => $"{address} is a multicast address",
            0xfc or 0xfd => $"{address} is a private address (fc00::/7)",
            0xfe when (b[1] & 0xc0) == 0x80 => $"{address} is a link-local address (fe80::/10)",
            0xfe when (b[1] & 0xc0) == 0xc0 => $"{address} is a site-local address (fec0::/10)",
            0x01 when b.Skip(1).Take(7).All(x => x == 0) => $"{address} is a discard address (100::/64)",
            _ => null,
        };
    }
}
