using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Taidon.Core.Runs;
using Taidon.Tests.Support;
using Taidon.Web.Features.Gateway;

namespace Taidon.Tests.Web;

public sealed class GracefulStopTests
{
    [Fact]
    public async Task ACircuitConnectionIsClosedAsTheStopBeginsWhileTheRunsInProgressEnd()
    {
        await using var app = await TaidonAppFactory.CreateAsync("gracefulstop", new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Taidon.Web.Features.Gateway.GracefulStop"] = "Information",
        });
        var address = app.StartOnLoopback();
        using var http = new HttpClient { BaseAddress = address };
        using var socket = await OpenCircuitConnectionAsync(http, address);
        // A run in progress here: the stop waits for it, not to close the circuits.
        var run = app.Services.GetRequiredService<IActiveRuns>().Begin("owner", null, CancellationToken.None);

        app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        // The connection is closed as the stop begins, while the run goes on.
        await ReceiveCloseAsync(socket).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(app.Services.GetRequiredService<IActiveRuns>().Here);
        run.Dispose();
        await UntilAsync(() => app.Logs.Messages.Any(m => m.Contains("Stopping: closed", StringComparison.Ordinal)));
        Assert.Contains(app.Logs.Messages, m => m.Contains("Stopping: closed 1 circuit connections (0 opened during the stop)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACircuitConnectionSignalRLeavesOpenIsClosedAtOnceNotAfterTheRunsInProgress()
    {
        await using var app = await TaidonAppFactory.CreateAsync("gracefulstop-busy", new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Taidon.Web.Features.Gateway.GracefulStop"] = "Information",
        });
        _ = app.Services; // the host is built and started
        // A /_blazor request that lasts until it is aborted, as a busy circuit's connection that SignalR's own
        // close at ApplicationStopping did not end (a page whose run was in progress).
        var connection = new DefaultHttpContext();
        connection.Request.Path = "/_blazor";
        var aborted = new CancellationTokenSource();
        connection.Features.Set<IHttpRequestLifetimeFeature>(new AbortOnly(aborted));
        var tracked = app.Services.GetRequiredService<CircuitConnections>().TrackAsync(connection, _ => Task.Delay(Timeout.Infinite, aborted.Token).ContinueWith(_ => { }, TaskScheduler.Default));
        var run = app.Services.GetRequiredService<IActiveRuns>().Begin("owner", null, CancellationToken.None);

        app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        // Closed while the run is still in progress (it goes on without its page, and is recorded).
        await tracked.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(app.Services.GetRequiredService<IActiveRuns>().Here);
        run.Dispose();
        await UntilAsync(() => app.Logs.Messages.Any(m => m.Contains("Stopping: closed", StringComparison.Ordinal)));
        Assert.Contains(app.Logs.Messages, m => m.Contains("Stopping: closed 1 circuit connections (0 opened during the stop)", StringComparison.Ordinal));
    }

    private sealed class AbortOnly(CancellationTokenSource aborted) : IHttpRequestLifetimeFeature
    {
        public CancellationToken RequestAborted { get; set; } = aborted.Token;

        public void Abort() => aborted.Cancel();
    }

    /// <summary>What a browser's circuit opens: a negotiated SignalR WebSocket on <c>/_blazor</c>, past the handshake.</summary>
    private static async Task<ClientWebSocket> OpenCircuitConnectionAsync(HttpClient http, Uri address)
    {
        using var negotiated = await http.PostAsync("/_blazor/negotiate?negotiateVersion=1", null);
        negotiated.EnsureSuccessStatusCode();
        var token = (await negotiated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("connectionToken").GetString();
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{address.Authority}/_blazor?id={token}"), CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"blazorpack\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1024];
        var answer = await socket.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal("{}\u001e", Encoding.UTF8.GetString(buffer, 0, answer.Count));
        return socket;
    }

    private static async Task ReceiveCloseAsync(ClientWebSocket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while ((await socket.ReceiveAsync(buffer, CancellationToken.None)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (WebSocketException)
        {
            // Aborted rather than closed: closed all the same.
        }
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "GracefulStop did not say what it closed");
            await Task.Delay(50);
        }
    }
}
