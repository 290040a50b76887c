namespace Taidon.Core.Quotas;

/// <summary>The account's plan does not allow this now; the message says which limit and what to do.</summary>
/// <param name="limit">The limit reached, in plain words ("runs per minute").</param>
/// <param name="message">What the student reads: the limit and what to do.</param>
public sealed class QuotaExceededException(string limit, string message) : Exception(message)
{
    public string Limit { get; } = limit;
}
