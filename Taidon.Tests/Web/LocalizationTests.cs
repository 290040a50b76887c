using System.Globalization;
using System.Resources;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using Taidon.Web.Features.Localization;

namespace Taidon.Tests.Web;

/// <summary>Every visible string of the app goes through the localizer and has its Russian translation.</summary>
public sealed partial class LocalizationTests
{
    [Fact]
    public void EveryStringThePagesShowHasARussianTranslationWithTheSamePlaceholders()
    {
        var russian = RussianStrings();
        var used = UsedKeys().ToList();

        Assert.True(used.Count > 100, $"Only {used.Count} localized strings found: is the source scan broken?");
        var missing = used.Where(k => !russian.ContainsKey(k)).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "No Russian for:\n" + string.Join("\n", missing));
        var mismatched = russian.Where(e => !Placeholders(e.Key).SequenceEqual(Placeholders(e.Value))).Select(e => e.Key).ToList();
        Assert.True(mismatched.Count == 0, "Placeholders differ in:\n" + string.Join("\n", mismatched));
    }

    [Fact]
    public void TheLocalizerSpeaksRussianForRussianAndFallsBackToTheEnglishKey()
    {
        using var services = new ServiceCollection().AddLogging().AddLocalization().BuildServiceProvider();
        var t = services.GetRequiredService<IStringLocalizer<Strings>>();
        var before = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("ru");
            Assert.Equal("Запустить", t["Run"]);
            Assert.Equal("Тесты: пройдено 2 из 3", t["Tests: {0} of {1} passed", 2, 3]);

            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("en");
            Assert.Equal("Run", t["Run"]);
            Assert.Equal("Tests: 2 of 3 passed", t["Tests: {0} of {1} passed", 2, 3]);
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
    }

    private static Dictionary<string, string> RussianStrings()
    {
        var manager = new ResourceManager(typeof(Strings).FullName!, typeof(Strings).Assembly);
        var set = manager.GetResourceSet(CultureInfo.GetCultureInfo("ru"), createIfNotExists: true, tryParents: false)
            ?? throw new InvalidOperationException("The Russian resources are not in the build.");
        return set.Cast<System.Collections.DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string)e.Value!);
    }

    /// <summary>The keys given to the localizer (T[...] in components, t[...] in helpers) in the web project's sources.</summary>
    private static IEnumerable<string> UsedKeys()
    {
        var web = Path.Combine(Taidon.Tests.Support.Repository.Root, "Taidon.Web");
        var sources = Directory.EnumerateFiles(web, "*.razor", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(web, "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        return sources.SelectMany(f => LocalizedKey().Matches(File.ReadAllText(f)).Select(m => Regex.Unescape(m.Groups[1].Value)));
    }

    private static IEnumerable<string> Placeholders(string text) =>
        Placeholder().Matches(text).Select(m => m.Value).Order(StringComparer.Ordinal);

    [GeneratedRegex("""\b[Tt]\["((?:[^"\\]|\\.)*)"[,\]]""")]
    private static partial Regex LocalizedKey();

    [GeneratedRegex(@"\{\d+(:[^}]*)?\}")]
    private static partial Regex Placeholder();
}
