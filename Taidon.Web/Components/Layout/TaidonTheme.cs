using MudBlazor;

namespace Taidon.Web.Components.Layout;

public static class TaidonTheme
{
    /// <summary>The cookie that remembers the student's choice of theme ("dark" or "light").</summary>
    public const string Cookie = "taidon.theme";

    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f5f8b",
            Secondary = "#2e8b57",
            AppbarBackground = "#17324d",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#6fb1e0",
            Secondary = "#5cc48a",
            AppbarBackground = "#10202f",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["Roboto", "Helvetica", "Arial", "sans-serif"] },
        },
    };
}
