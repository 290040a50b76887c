using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Taidon.Tests.Support;

/// <summary>
/// A small HTTP/1.1 server on loopback that records every connection and request head and answers
/// each request as told (a redirect, a 401, or nothing at all), then closes the connection. For the
/// tests of what the server may reach: a refused address must see no connection.
/// </summary>
public sealed class RecordingHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<string, string?> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly Task _loop;
    private int _connections;

    /// <param name="answer">The whole response to a request head; null keeps the connection open without a word.</param>
    private RecordingHttpServer(Func<string, string?> answer)
    {
        _answer = answer;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _loop = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>host:port.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public string Url(string path) => $"http://{Host}/{path}";

    public int Connections => Volatile.Read(ref _connections);

    public IReadOnlyList<string> Requests => [.. _requests];

    public static RecordingHttpServer Answering(Func<string, string?> answer) => new(answer);

    /// <summary>Answers every request with a redirect to <paramref name="location"/> and the same path and query.</summary>
    public static RecordingHttpServer RedirectingTo(string location) =>
        new(head => $"HTTP/1.1 302 Found\r\nLocation: {location.TrimEnd('/')}{PathOf(head)}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

    /// <summary>Asks for a login on every request, as a private repository does.</summary>
    public static RecordingHttpServer AskingForALogin() =>
        new(_ => "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

    /// <summary>Accepts and reads, never answers.</summary>
    public static RecordingHttpServer Silent() => new(_ => null);

    private static string PathOf(string head) => head.Split(' ', 3) is [_, var path, _] ? path : "/";

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                var head = new StringBuilder();
                var buffer = new byte[4096];
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await socket.ReceiveAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }

                var request = head.ToString()[..head.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)];
                _requests.Enqueue(request);
                if (_answer(request) is { } answer)
                {
                    await socket.SendAsync(Encoding.ASCII.GetBytes(answer), _stop.Token);
                    socket.Shutdown(SocketShutdown.Both);
                }
                else
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
