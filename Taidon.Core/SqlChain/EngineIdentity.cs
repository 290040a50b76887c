using System.Globalization;
using System.Text;

namespace Taidon.Core.SqlChain;

/// <summary>
/// What h_0 names: the PostgreSQL major version and the instance settings that change how statements
/// behave (encoding, locale, time zone, ...). Two instances with the same identity reach the same state
/// from the same chain.
/// </summary>
public sealed record EngineIdentity(int MajorVersion, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>The settings every Taidon instance is created with, so they belong in h_0.</summary>
    public static IReadOnlyDictionary<string, string> DefaultSettings { get; } = new Dictionary<string, string>
    {
        ["encoding"] = "UTF8",
        ["lc_collate"] = "C",
        ["lc_ctype"] = "C",
        ["TimeZone"] = "UTC",
        ["DateStyle"] = "ISO, MDY",
        ["IntervalStyle"] = "postgres",
        ["standard_conforming_strings"] = "on",
    };

    public static EngineIdentity PostgreSql(int majorVersion) => new(majorVersion, DefaultSettings);

    /// <summary>h_0: the SHA-256 of a canonical text naming the engine (settings sorted by name).</summary>
    public ChainKey Root
    {
        get
        {
            var text = new StringBuilder("taidon-chain-v1\npostgresql ").Append(MajorVersion.ToString(CultureInfo.InvariantCulture)).Append('\n');
            foreach (var (name, value) in Settings.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                text.Append(name).Append('=').Append(value).Append('\n');
            }

            return ChainKey.Of(Encoding.UTF8.GetBytes(text.ToString()));
        }
    }
}
