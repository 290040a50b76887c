using System.Net;
using System.Net.Sockets;

namespace Taidon.Tests.Support;

public static class Loopback
{
    /// <summary>A loopback port free just now, for a server that must be told its port before it starts.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
