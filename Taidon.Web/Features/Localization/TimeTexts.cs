using Microsoft.Extensions.Localization;

namespace Taidon.Web.Features.Localization;

/// <summary>How the pages word a moment in the past, in the reader's language.</summary>
public static class TimeTexts
{
    public static string Ago(IStringLocalizer<Strings> t, TimeSpan ago) =>
        ago.TotalMinutes < 1 ? t["just now"]
        : ago.TotalHours < 1 ? t["{0} min ago", (int)ago.TotalMinutes]
        : ago.TotalDays < 1 ? t["{0} h ago", (int)ago.TotalHours]
        : t["{0} d ago", (int)ago.TotalDays];
}
