using System.Net;
using System.Text.RegularExpressions;

namespace Taidon.Tests.Support;

/// <summary>
/// Follows redirects across hosts (the app, an OpenID Connect provider) and keeps cookies per host and
/// port, like a browser without a page: enough for sign-in flows at the HTTP level. Unlike
/// <see cref="CookieContainer"/> it sends Secure cookies over loopback http, as browsers do for localhost.
/// </summary>
public sealed partial class PlainBrowser : IDisposable
{
    private readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
    private readonly Dictionary<string, Dictionary<string, string>> _cookies = [];

    /// <summary>Where the last request ended, after its redirects.</summary>
    public Uri Location { get; private set; } = null!;

    public Task<string> GetAsync(Uri address) => SendAsync(HttpMethod.Get, address, null);

    public Task<string> PostFormAsync(Uri address, IReadOnlyDictionary<string, string> fields) => SendAsync(HttpMethod.Post, address, fields);

    private async Task<string> SendAsync(HttpMethod method, Uri address, IReadOnlyDictionary<string, string>? form)
    {
        for (var hops = 0; hops < 20; hops++)
        {
            using var request = new HttpRequestMessage(method, address);
            if (form is not null)
            {
                request.Content = new FormUrlEncodedContent(form);
            }

            if (_cookies.TryGetValue(address.Authority, out var jar) && jar.Count > 0)
            {
                request.Headers.Add("Cookie", string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}")));
            }

            using var response = await _http.SendAsync(request);
            Keep(address, response);
            if (response.Headers.Location is { } next)
            {
                address = new Uri(address, next);
                (method, form) = (HttpMethod.Get, null);
                continue;
            }

            var html = await response.Content.ReadAsStringAsync();
            if (AutoPostForm().Match(html) is { Success: true } autoPost)
            {
                // A provider's form_post answer: a form its script submits at once.
                address = new Uri(address, WebUtility.HtmlDecode(autoPost.Groups[1].Value));
                (method, form) = (HttpMethod.Post, FormInput().Matches(html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value)));
                continue;
            }

            Location = address;
            return html;
        }

        throw new InvalidOperationException("More than 20 redirects.");
    }

    private void Keep(Uri address, HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Set-Cookie", out var cookies))
        {
            return;
        }

        if (!_cookies.TryGetValue(address.Authority, out var jar))
        {
            _cookies[address.Authority] = jar = [];
        }

        foreach (var cookie in cookies)
        {
            var pair = cookie.Split(';')[0];
            var (name, value) = (pair[..pair.IndexOf('=', StringComparison.Ordinal)], pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            if (value.Length == 0 || cookie.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
            {
                jar.Remove(name);
            }
            else
            {
                jar[name] = value;
            }
        }
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("<form[^>]*\\baction=\"([^\"]+)\"[\\s\\S]*\\.submit\\(\\)", RegexOptions.IgnoreCase)]
    private static partial Regex AutoPostForm();

    [GeneratedRegex("<input[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex FormInput();
}
