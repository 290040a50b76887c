using System.Net;
using System.Text.RegularExpressions;

namespace Taidon.Tests.Support;

/// <summary>Submits a server-rendered form as a browser would, without one: its hidden fields (antiforgery, handler) and the given ones.</summary>
public static partial class HtmlForms
{
    public static async Task<HttpResponseMessage> SubmitAsync(HttpClient browser, string page, IReadOnlyDictionary<string, string> fields)
    {
        using var form = new FormUrlEncodedContent(With(await browser.GetStringAsync(page), fields));
        return await browser.PostAsync(page, form);
    }

    /// <summary>The page's hidden fields with the given ones.</summary>
    public static Dictionary<string, string> With(string html, IReadOnlyDictionary<string, string> fields)
    {
        var all = new Dictionary<string, string>();
        foreach (Match hidden in HiddenInput().Matches(html))
        {
            // Two forms of a page carry the same antiforgery token.
            all[WebUtility.HtmlDecode(hidden.Groups[1].Value)] = WebUtility.HtmlDecode(hidden.Groups[2].Value);
        }

        foreach (var (name, value) in fields)
        {
            all[name] = value;
        }

        return all;
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"")]
    private static partial Regex HiddenInput();
}
