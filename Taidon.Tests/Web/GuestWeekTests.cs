using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Core.Instances;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Tests.Support;
using Xunit.Abstractions;

namespace Taidon.Tests.Web;

/// <summary>
/// A week of guests, scaled down and on a clock that jumps (ten guests a day, each running the class
/// course once and leaving), on a filesystem of its own with a disk budget for instances: after each
/// night the instances' disk is within the budget (stopped instances in a cached state gave up their
/// files), and instances older than their lifetime are gone.
/// </summary>
public sealed class GuestWeekTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int GuestsPerDay = 10;
    private const int BudgetMegabytes = 260;

    private const string Course = """
        CREATE TABLE customers (id int PRIMARY KEY, name text);
        INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 20000) g;
        CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, total numeric);
        INSERT INTO orders SELECT g, 1 + g % 20000, g % 97 FROM generate_series(1, 40000) g;
        SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id;
        """;

    private LoopFilesystem? _disk;
    private readonly ShiftedClock _clock = new();
    private TaidonAppFactory? _factory;

    private string Mount => _disk!.Mount;

    public async Task InitializeAsync()
    {
        if (OsUser.CurrentIsRoot)
        {
            _disk = await LoopFilesystem.MountAsync("week", 1200);
        }
    }

    [RootFact]
    public async Task AWeekOfGuestsKeepsTheInstancesWithinTheirDiskBudgetAndExpiredOnesAreGone()
    {
        _factory = new TaidonAppFactory(await TestControlPlane.CreateDatabaseAsync("week"), new Dictionary<string, string?>
        {
            ["Taidon:DataDirectory"] = Path.Combine(Mount, "data"),
            ["Taidon:Instances:DiskBudgetMegabytes"] = BudgetMegabytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await using var app = _factory.WithWebHostBuilder(web => web.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(_clock)));
        var lifecycle = app.Services.GetRequiredService<InstanceLifecycle>();
        var runtime = app.Services.GetRequiredService<IInstanceRuntime>();
        var store = app.Services.GetRequiredService<IInstanceStore>();
        var firstDay = new List<Guid>();
        output.WriteLine("| day | guests so far | instances | with files | stopped this night | files dropped | deleted (expired) | instances' disk after the night |");
        output.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");

        for (var day = 1; day <= 8; day++)
        {
            var sweeps = new List<InstanceLifecycle.Sweep>();
            var guests = day <= 7 ? GuestsPerDay : 0;
            for (var guest = 0; guest < guests; guest++)
            {
                // Guests arrive through the school day, half an hour apart; the minutely job runs between them.
                using var client = app.CreateClient();
                var token = (await (await client.PostAsync("/api/v1/anonymous", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
                client.DefaultRequestHeaders.Authorization = new("Bearer", token);
                var run = await (await client.PostAsJsonAsync("/api/v1/runs", new { script = Course, path = "test/01_course.sql" })).Content.ReadFromJsonAsync<JsonElement>();
                Assert.True(run.GetProperty("succeeded").GetBoolean(), run.ToString());
                if (day == 1)
                {
                    firstDay.Add(Guid.Parse(run.GetProperty("instanceId").GetString()!));
                }

                _clock.Offset += TimeSpan.FromMinutes(30);
                sweeps.Add(await lifecycle.SweepAsync(CancellationToken.None));
            }

            // The night: everyone has left; the job goes on every few hours.
            for (var hour = 0; hour < 24 - guests / 2; hour += 4)
            {
                _clock.Offset += TimeSpan.FromHours(4);
                sweeps.Add(await lifecycle.SweepAsync(CancellationToken.None));
            }

            var all = await store.AllAsync(CancellationToken.None);
            var (withFiles, used) = (0, 0L);
            foreach (var instance in all)
            {
                if (await runtime.UsageAsync(instance.Id, CancellationToken.None) is { } usage)
                {
                    (withFiles, used) = (withFiles + 1, used + usage.DiskBytes);
                }
            }

            output.WriteLine($"| {day} | {Math.Min(day, 7) * GuestsPerDay} | {all.Count} | {withFiles} | {sweeps.Sum(s => s.Stopped)} | {sweeps.Sum(s => s.Reclaimed)} | {sweeps.Sum(s => s.Deleted)} | {used >> 20} MB |");
            Assert.True(used <= BudgetMegabytes * (1L << 20), $"day {day}: the instances' disk holds {used >> 20} MB after the night, over the budget of {BudgetMegabytes} MB");
            Assert.DoesNotContain(all, i => i.State == InstanceState.Running);
        }

        // A week and a day later, the first day's instances have passed their lifetime (168 h) and are gone.
        var left = (await store.AllAsync(CancellationToken.None)).Select(i => i.Id).ToHashSet();
        Assert.DoesNotContain(firstDay, left.Contains);
    }

    /// <summary>The system clock moved on by <see cref="Offset"/>: timers and delays still run in real time.</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }


    public async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (_disk is not null)
        {
            await _disk.DisposeAsync();
        }
    }
}
