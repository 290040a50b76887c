using System.Diagnostics.Metrics;

namespace Taidon.Tests.Support;

/// <summary>
/// Listens to one instrument of one app (by its meter factory: other tests' apps run in the same
/// process) and keeps each measurement with its tags, from now on.
/// </summary>
public sealed class AppMeasurements : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(long Value, IReadOnlyDictionary<string, object?> Tags)> _seen = [];

    public AppMeasurements(IMeterFactory app, string instrument)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Name == instrument && ReferenceEquals(published.Meter.Scope, app))
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var kept = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                kept[tag.Key] = tag.Value;
            }

            lock (_seen)
            {
                _seen.Add((value, kept));
            }
        });
        _listener.Start();
    }

    /// <summary>The sum of the measurements so far.</summary>
    public long Total
    {
        get
        {
            lock (_seen)
            {
                return _seen.Sum(m => m.Value);
            }
        }
    }

    /// <summary>The values of one tag in the measurements since the last call, in order.</summary>
    public string[] TakeTag(string key)
    {
        lock (_seen)
        {
            var taken = _seen.Select(m => m.Tags.GetValueOrDefault(key) as string).OfType<string>().ToArray();
            _seen.Clear();
            return taken;
        }
    }

    public void Dispose() => _listener.Dispose();
}
