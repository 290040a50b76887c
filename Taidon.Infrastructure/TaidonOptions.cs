using System.ComponentModel.DataAnnotations;

namespace Taidon.Infrastructure;

/// <summary>Settings of the section <c>Taidon</c> that apply to the whole installation.</summary>
public sealed class TaidonOptions
{
    public const string SectionName = "Taidon";

    /// <summary>
    /// Where Taidon keeps its files: the embedded control-plane cluster, and later projects, instances
    /// and snapshots. Default: <c>/var/lib/taidon</c> for root, else <c>$XDG_DATA_HOME/taidon</c>
    /// (<c>~/.local/share/taidon</c>).
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>"text" (default) or "json" for one JSON object per line on stdout.</summary>
    [RegularExpression("^(text|json)$", ErrorMessage = "Taidon:LogFormat must be 'text' or 'json'.")]
    public string LogFormat { get; set; } = "text";

    public string ResolveDataDirectory() =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(DataDirectory) ? DefaultDataDirectory() : DataDirectory);

    public static string DefaultDataDirectory() =>
        LocalRuntime.OsUser.CurrentIsRoot
            ? "/var/lib/taidon"
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "taidon");
}

/// <summary>Settings of <c>Taidon:Postgres</c>: where the PostgreSQL programs are and who runs them.</summary>
public sealed class PostgresOptions
{
    public const string SectionName = "Taidon:Postgres";

    /// <summary>The directory with initdb, pg_ctl and postgres; found on PATH or in /usr/lib/postgresql/*/bin when empty.</summary>
    public string? BinDirectory { get; set; }

    /// <summary>The unprivileged account that runs PostgreSQL when Taidon runs as root (default: postgres, else taidon).</summary>
    public string? OsUser { get; set; }
}
