using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Taidon.Core.Common;

/// <summary>
/// The meter and activity source named <c>Taidon</c>; every module records its figures here so that
/// the metrics endpoint, the admin overview and the alert rules read one set of numbers.
/// </summary>
public sealed class TaidonTelemetry : IDisposable
{
    public const string Name = "Taidon";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;

    public TaidonTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        AccountsCreated = _meter.CreateCounter<long>(
            "taidon.accounts.created", unit: "{account}", description: "Accounts created, by kind (anonymous or registered).");
        SignIns = _meter.CreateCounter<long>(
            "taidon.signins", unit: "{signin}", description: "Sign-in attempts, by outcome.");
        RateLimited = _meter.CreateCounter<long>(
            "taidon.requests.rate_limited", unit: "{request}", description: "Requests refused by the rate limiter, by policy.");
    }

    public Counter<long> AccountsCreated { get; }

    public Counter<long> SignIns { get; }

    public Counter<long> RateLimited { get; }

    public void Dispose() => _meter.Dispose();
}
