using System.Net;
using System.Net.Http.Headers;
using System.Text;
using LibGit2Sharp;
using Taidon.Core.Git;

namespace Taidon.Infrastructure.Git;

/// <summary>
/// One Git operation's remote access: the remote, the account's token for it, the guard every
/// connection goes through, the download bound and the deadline. Git's HTTP (<see cref="GitHttpTransport"/>)
/// reads it from the operation's thread; the first failure it meets is kept here in plain words, so the
/// student never sees libgit2's text.
/// </summary>
public sealed class GitRemoteSession : IDisposable
{
    private static readonly AsyncLocal<GitRemoteSession?> CurrentSession = new();

    private readonly CancellationTokenSource _deadline;
    private readonly CancellationToken _caller;

    public GitRemoteSession(Uri remote, GitCredential? credential, GitAddressGuard guard, long maxBytes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _caller = cancellationToken;
        Remote = remote;
        Credential = credential;
        MaxBytes = maxBytes;
        Timeout = timeout;
        _deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _deadline.CancelAfter(timeout);
        Client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = timeout,
            ConnectCallback = (context, token) => guard.ConnectAsync(context.DnsEndPoint, token),
        })
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
        Client.DefaultRequestHeaders.UserAgent.ParseAdd("git/2.0 (Taidon)");
    }

    /// <summary>The session of the Git operation running on this thread, if any.</summary>
    public static GitRemoteSession? Current => CurrentSession.Value;

    public Uri Remote { get; }

    public GitCredential? Credential { get; }

    public long MaxBytes { get; }

    public TimeSpan Timeout { get; }

    public HttpClient Client { get; }

    public CancellationToken Token => _deadline.Token;

    /// <summary>Bytes received from the remote so far (every response body).</summary>
    public long Received { get; set; }

    /// <summary>Whether the token went with a request already (a 401 after it means the token was refused).</summary>
    public bool SendsToken { get; set; }

    public GitProblemException? Failure { get; private set; }

    /// <summary>The deadline passed (not the caller's cancellation).</summary>
    public bool TimedOut => _deadline.IsCancellationRequested && !_caller.IsCancellationRequested;

    /// <summary>Makes this the session of the calling thread's Git operation until it is disposed.</summary>
    public void Enter() => CurrentSession.Value = this;

    /// <summary>Keeps the first failure and returns an exception for libgit2 (whose text the student never sees).</summary>
    public Exception Fail(GitProblem problem, string message)
    {
        Failure ??= new GitProblemException(problem, message);
        return new InvalidOperationException(Failure.Message);
    }

    public void Dispose()
    {
        if (CurrentSession.Value == this)
        {
            CurrentSession.Value = null;
        }

        Client.Dispose();
        _deadline.Dispose();
    }
}

/// <summary>
/// Git's smart HTTP done by the app instead of libgit2, registered for http and https: every
/// connection goes through <see cref="GitAddressGuard"/>, redirects are followed here (each hop
/// checked again, at most five, never from https to http), responses count towards the download
/// bound and the operation's deadline, and the account's token goes only to the scheme, host and
/// port it was saved for, after the remote asked for it. Outside a <see cref="GitRemoteSession"/> it
/// refuses to connect at all.
/// </summary>
public sealed class GitHttpTransport : RpcSmartSubtransport
{
    private static readonly object Gate = new();
    private static bool _registered;

    /// <summary>The base URL after a redirect of the first request (git follows it for the rest of the operation).</summary>
    private string? _redirectedBase;
    private string? _originalBase;

    /// <summary>Takes Git's HTTP and HTTPS from libgit2 for the whole process (once).</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (_registered)
            {
                return;
            }

            GlobalSettings.RegisterSmartSubtransport<GitHttpTransport>("http");
            GlobalSettings.RegisterSmartSubtransport<GitHttpTransport>("https");
            _registered = true;
        }
    }

    protected override SmartSubtransportStream Action(string url, GitSmartSubtransportAction action)
    {
        var session = GitRemoteSession.Current
            ?? throw new InvalidOperationException("Git over HTTP is reached only through GitService (no remote session on this thread).");
        var root = url.TrimEnd('/');
        if (_originalBase == root && _redirectedBase is not null)
        {
            root = _redirectedBase;
        }

        return action switch
        {
            GitSmartSubtransportAction.UploadPackList => new Exchange(this, session, root, "/info/refs?service=git-upload-pack", null),
            GitSmartSubtransportAction.UploadPack => new Exchange(this, session, root, "/git-upload-pack", "application/x-git-upload-pack"),
            GitSmartSubtransportAction.ReceivePackList => new Exchange(this, session, root, "/info/refs?service=git-receive-pack", null),
            GitSmartSubtransportAction.ReceivePack => new Exchange(this, session, root, "/git-receive-pack", "application/x-git-receive-pack"),
            _ => throw new InvalidOperationException($"Git asked for {action}, which Taidon does not do over HTTP."),
        };
    }

    private void Redirected(string from, string to)
    {
        _originalBase ??= from;
        _redirectedBase = to;
    }

    /// <summary>One request and its response: a GET of the refs, or a POST of what libgit2 wrote.</summary>
    private sealed class Exchange(GitHttpTransport transport, GitRemoteSession session, string root, string suffix, string? service) : SmartSubtransportStream(transport)
    {
        private const int MaxRedirects = 5;

        private readonly MemoryStream _body = new();
        private byte[]? _buffer;
        private HttpResponseMessage? _response;
        private Stream? _content;

        public override int Write(Stream dataStream, long length)
        {
            dataStream.CopyTo(_body);
            return 0;
        }

        public override int Read(Stream dataStream, long length, out long bytesRead)
        {
            _content ??= Open();
            _buffer ??= new byte[1 << 16];
            var buffer = _buffer.AsMemory(0, (int)Math.Min(length, _buffer.Length));
            int read;
            try
            {
                read = _content.ReadAsync(buffer, session.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
            {
                throw Failed(e);
            }

            session.Received += read;
            if (session.Received > session.MaxBytes)
            {
                throw session.Fail(GitProblem.TooLarge, $"The repository is larger than {session.MaxBytes / (1024 * 1024)} MiB, the most a project may download.");
            }

            dataStream.Write(buffer.Span[..read]);
            bytesRead = read;
            return 0;
        }

        private Stream Open()
        {
            var url = root + suffix;
            for (var hop = 0; ; hop++)
            {
                var target = new Uri(url);
                using var request = Request(target, withToken: session.SendsToken && MayHaveToken(target));
                var response = Send(request);
                if (response.StatusCode == HttpStatusCode.Unauthorized && !session.SendsToken && session.Credential is not null && MayHaveToken(target))
                {
                    response.Dispose();
                    session.SendsToken = true;
                    using var again = Request(target, withToken: true);
                    response = Send(again);
                }

                var status = (int)response.StatusCode;
                if (status is 301 or 302 or 303 or 307 or 308 && service is null)
                {
                    var location = response.Headers.Location;
                    response.Dispose();
                    url = Follow(target, location, hop);
                    if (url.EndsWith(suffix, StringComparison.Ordinal))
                    {
                        transport.Redirected(root, url[..^suffix.Length]);
                    }

                    continue;
                }

                if (response.IsSuccessStatusCode)
                {
                    _response = response;
                    return response.Content.ReadAsStream(session.Token);
                }

                response.Dispose();
                throw Refused(status, target);
            }
        }

        private HttpRequestMessage Request(Uri target, bool withToken)
        {
            var request = new HttpRequestMessage(service is null ? HttpMethod.Get : HttpMethod.Post, target);
            if (service is not null)
            {
                request.Content = new ByteArrayContent(_body.ToArray());
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(service + "-request");
                request.Headers.Accept.ParseAdd(service + "-result");
            }

            if (withToken && session.Credential is { } credential)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Token}")));
            }

            return request;
        }

        private HttpResponseMessage Send(HttpRequestMessage request)
        {
            try
            {
                return session.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, session.Token).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                throw Failed(e);
            }
        }

        /// <summary>The token goes only where it was saved for: the remote's own scheme, host and port.</summary>
        private bool MayHaveToken(Uri target) =>
            target.Scheme == session.Remote.Scheme && string.Equals(target.Host, session.Remote.Host, StringComparison.OrdinalIgnoreCase) && target.Port == session.Remote.Port;

        private string Follow(Uri from, Uri? location, int hop)
        {
            if (location is null || hop + 1 > MaxRedirects)
            {
                throw session.Fail(GitProblem.Unreachable, "The repository host sent Taidon on too many redirects (or one without a target).");
            }

            var next = location.IsAbsoluteUri ? location : new Uri(from, location);
            if (next.Scheme != Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttp)
            {
                throw session.Fail(GitProblem.BadUrl, "The repository host redirected to an address that is not http(s).");
            }

            if (from.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp)
            {
                throw session.Fail(GitProblem.BadUrl, "The repository host redirected from https to plain http; Taidon does not follow that.");
            }

            if (next.UserInfo.Length > 0)
            {
                throw session.Fail(GitProblem.BadUrl, "The repository host redirected to an address with a user name in it; Taidon does not follow that.");
            }

            return next.GetLeftPart(UriPartial.Query);
        }

        private Exception Refused(int status, Uri target)
        {
            var key = GitCredentialKey.Of(session.Remote);
            return status switch
            {
                401 or 403 when session.SendsToken =>
                    session.Fail(GitProblem.Unauthorized, $"{session.Remote.Host} refused the token: save a valid token for {key} (it may be wrong, expired, or lack access to this repository)."),
                401 or 403 => session.Fail(GitProblem.Unauthorized, session.Remote.Scheme == Uri.UriSchemeHttp && MayHaveToken(target)
                    ? $"The repository was not found or needs a token: save a token for {key} (a token saved for https is never sent over plain http)."
                    : $"The repository was not found or needs a token: save a token for {key}."),
                404 => session.Fail(GitProblem.NotFound, $"There is no repository at {session.Remote.GetLeftPart(UriPartial.Path)}, or it needs a token: check the URL."),
                _ => session.Fail(GitProblem.Other, $"The repository host answered {status}; try again later, or check the URL."),
            };
        }

        private Exception Failed(Exception e)
        {
            for (var inner = e; inner is not null; inner = inner.InnerException)
            {
                if (inner is GitAddressRefusedException refused)
                {
                    return session.Fail(GitProblem.AddressNotAllowed, refused.Message);
                }
            }

            if (session.TimedOut)
            {
                return session.Fail(GitProblem.TimedOut, $"The repository host took longer than {session.Timeout.TotalSeconds:0} s, the most a Git operation may take.");
            }

            return e is OperationCanceledException ? e : session.Fail(GitProblem.Unreachable, $"Could not reach the repository host {session.Remote.Host}: check the address, or try again later.");
        }

        protected override void Free()
        {
            _content?.Dispose();
            _response?.Dispose();
            _body.Dispose();
            base.Free();
        }
    }
}
