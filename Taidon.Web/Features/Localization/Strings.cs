namespace Taidon.Web.Features.Localization;

/// <summary>
/// The app's visible strings. A key is the English text itself (English needs no resource); the
/// translations are in Strings.{culture}.resx next to this class.
/// </summary>
public sealed class Strings;
