namespace Taidon.Core.Quotas;

/// <summary>
/// The installation as a whole is at one of its limits (not the account's plan): nobody gets more of it
/// until some is freed, so the answer is to try again later. The message names the limit.
/// </summary>
/// <param name="limit">The limit reached, in plain words ("instances in this installation").</param>
/// <param name="message">What the student reads: the limit and what to do.</param>
/// <param name="retryAfter">When trying again is worth it.</param>
public sealed class InstallationAtCapacityException(string limit, string message, TimeSpan retryAfter) : Exception(message)
{
    public string Limit { get; } = limit;

    public TimeSpan RetryAfter { get; } = retryAfter;
}
