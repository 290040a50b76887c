using System.Net;
using System.Text.RegularExpressions;

namespace Taidon.Tests.Support;

/// <summary>Submits a server-rendered form as a browser would, without one: its hidden fields (antiforgery, handler) and the given ones.</summary>
public static partial class HtmlForms
{
    public static async Task<HttpResponseMessage> SubmitAsync(HttpClient browser, string page, IReadOnlyDictionary<string, string> fields)
    {
        var html = await browser.GetStringAsync(page);
        var all = HiddenInput().Matches(html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));
        foreach (var (name, value) in fields)
        {
            all[name] = value;
        }

        using var form = new FormUrlEncodedContent(all);
        return await browser.PostAsync(page, form);
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"")]
    private static partial Regex HiddenInput();
}
