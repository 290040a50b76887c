using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Taidon.Benchmarks.ClassLoad;

/// <summary>One student of the class as the driver left it: its guest token, its project and the last edit the server acknowledged saving.</summary>
public sealed class ClassStudent
{
    public string? Token { get; set; }

    public Guid? Project { get; set; }

    /// <summary>The exercise as last saved (a 200 to its PUT), or null before the first save.</summary>
    public string? Saved { get; set; }

    /// <summary>When the student's last run answered with a success was sent (on the class's clock).</summary>
    public TimeSpan? LastAnswered { get; set; }
}

/// <summary>
/// The class's students over the HTTP API, against any base address (the app, or a proxy in front of
/// several replicas): each arrives, becomes a guest, makes a project with the course's init script, then
/// edits the exercise every think time, saving it (PUT) and running the saved project. An answer that says
/// busy (429 or 503 with Retry-After) is waited out and asked again; anything else that is not a success is
/// an error in <see cref="ClassFigures"/> (a lost result). Shared by the class harness and the rolling-update
/// test (Taidon.Tests compiles this file too).
/// </summary>
public static class ClassStudents
{
    /// <summary>A school behind one address: the visitor and API rate limits raised (settings under Taidon:), nothing else changed.</summary>
    public static IReadOnlyDictionary<string, string> SchoolSettings { get; } = new Dictionary<string, string>
    {
        ["RateLimits:AnonymousApiPerMinute"] = "100000",
        ["RateLimits:ApiPerMinute"] = "100000",
        ["RateLimits:NewVisitorsPerHour"] = "100000",
        ["RateLimits:NewVisitorsPerHourTotal"] = "100000",
    };

    /// <summary>
    /// The class's client: many connections, and no cookies, so an API student (a bearer token) is not kept on
    /// one replica by an affinity cookie: each request goes where the ingress sends it.
    /// </summary>
    public static HttpClient Client(Uri address) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = 10_000, PooledConnectionLifetime = TimeSpan.FromMinutes(10), UseCookies = false })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromMinutes(5),
        };

    /// <summary>The students, arriving evenly within the workload's arrival window, each working until <paramref name="over"/>; the task ends when all have.</summary>
    public static (List<ClassStudent> Students, Task Working) Arrive(HttpClient http, ClassWorkload workload, ClassFigures figures, Stopwatch clock, CancellationToken over)
    {
        var random = new Random(workload.Seed);
        var students = Enumerable.Range(0, workload.Students).Select(_ => new ClassStudent()).ToList();
        var working = students.Select((student, i) => StudentAsync(student, http, workload, figures, clock,
            TimeSpan.FromTicks((long)(workload.ArrivalWindow.Ticks * (double)i / Math.Max(1, workload.Students))), over, new Random(random.Next())));
        return (students, Task.WhenAll(working));
    }

    /// <summary>Reads every student's exercise back through the API; returns how many were read and those that differ from the last save acknowledged.</summary>
    public static async Task<(int Checked, List<string> Lost)> CheckSavedAsync(HttpClient http, IEnumerable<ClassStudent> students)
    {
        var read = 0;
        var lost = new List<string>();
        foreach (var student in students.Where(s => s.Saved is not null))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/projects/{student.Project}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", student.Token);
            using var response = await http.SendAsync(request);
            var project = await response.Content.ReadFromJsonAsync<JsonElement>();
            var exercise = response.IsSuccessStatusCode
                ? project.GetProperty("scripts").EnumerateArray().FirstOrDefault(s => s.GetProperty("path").GetString() == ClassWorkload.ExercisePath)
                : default;
            read++;
            if (exercise.ValueKind != JsonValueKind.Object || exercise.GetProperty("content").GetString() != student.Saved)
            {
                lost.Add($"project {student.Project}: {(int)response.StatusCode} {(exercise.ValueKind == JsonValueKind.Object ? exercise.GetProperty("content").GetString() : "no exercise")}");
            }
        }

        return (read, lost);
    }

    private static async Task StudentAsync(ClassStudent student, HttpClient http, ClassWorkload workload, ClassFigures figures, Stopwatch clock, TimeSpan arrival, CancellationToken over, Random random)
    {
        if (!await WaitAsync(arrival, over))
        {
            return;
        }

        var arrived = clock.Elapsed;
        var started = clock.Elapsed;
        using (var guest = await SendAsync(http, "guest", null, () => new(HttpMethod.Post, "/api/v1/anonymous"), figures, retry: true, over))
        {
            if (guest is null)
            {
                return;
            }

            figures.Guests.Add((clock.Elapsed - started).TotalMilliseconds);
            student.Token = (await guest.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        }

        using (var project = await SendAsync(http, "project", student.Token, () => new(HttpMethod.Post, "/api/v1/projects") { Content = JsonContent.Create(new { name = "class", from = "empty" }) }, figures, retry: true, over))
        {
            if (project is null)
            {
                return;
            }

            student.Project = (await project.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        }

        if (!await SaveAsync(http, student, ClassWorkload.InitPath, ClassWorkload.Init, figures, clock, over))
        {
            return;
        }

        var first = true;
        for (var edit = 0; !over.IsCancellationRequested; edit++)
        {
            var exercise = ClassWorkload.Exercise(edit);
            if (!await SaveAsync(http, student, ClassWorkload.ExercisePath, exercise, figures, clock, over))
            {
                return;
            }

            student.Saved = exercise;
            started = clock.Elapsed;
            figures.RunSent();
            using (var response = await SendAsync(http, "run", student.Token, () => new(HttpMethod.Post, $"/api/v1/projects/{student.Project}/runs") { Content = JsonContent.Create(new { run = ClassWorkload.ExercisePath }) }, figures, retry: false, over))
            {
                var took = (clock.Elapsed - started).TotalMilliseconds;
                if (response is not null)
                {
                    var run = await response.Content.ReadFromJsonAsync<JsonElement>();
                    if (run.GetProperty("succeeded").GetBoolean())
                    {
                        figures.Run(started, took, ClassWorkload.ChangesState(edit), steady: started >= workload.SteadyFrom);
                        student.LastAnswered = started;
                        if (first)
                        {
                            figures.FirstResults.Add((clock.Elapsed - arrived).TotalMilliseconds);
                            first = false;
                        }
                    }
                    else
                    {
                        figures.Error("run failed: " + FirstError(run));
                    }
                }
            }

            if (!await WaitAsync(workload.Think(random), over))
            {
                break;
            }
        }

        return;
    }

    private static async Task<bool> SaveAsync(HttpClient http, ClassStudent student, string path, string content, ClassFigures figures, Stopwatch clock, CancellationToken over)
    {
        var started = clock.Elapsed;
        // A save that did not arrive is sent again, as the workspace keeps an edit until the server has saved it.
        using var saved = await SendAsync(http, "save", student.Token, () => new(HttpMethod.Put, $"/api/v1/projects/{student.Project}/scripts/{path}") { Content = JsonContent.Create(new { content }) }, figures, retry: true, over);
        if (saved is not null)
        {
            figures.Saves.Add((clock.Elapsed - started).TotalMilliseconds);
        }

        return saved is not null;
    }

    private const int MaxErrors = 5;

    /// <summary>
    /// Sends a request until it is answered with a success: a busy answer (429, or 503 with Retry-After) is
    /// counted as busy and sent again after its Retry-After; any other answer or a connection error is an
    /// error, sent again (up to five errors) only when <paramref name="retry"/> and the class is not over. Null when given up.
    /// </summary>
    private static async Task<HttpResponseMessage?> SendAsync(
        HttpClient http, string kind, string? token, Func<HttpRequestMessage> make, ClassFigures figures, bool retry, CancellationToken over)
    {
        for (var errors = 0; ;)
        {
            using var request = make();
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            HttpResponseMessage response;
            try
            {
                // Not cancelled when the class is over: a request sent is answered.
                response = await http.SendAsync(request, CancellationToken.None);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                figures.Error($"{kind} {e.GetType().Name}: {e.Message}");
                if (!retry || over.IsCancellationRequested || ++errors == MaxErrors)
                {
                    return null;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
                continue;
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            var wait = RetryAfter(response);
            var busy = wait is not null && response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable;
            if (busy)
            {
                figures.Busy($"{kind} {(int)response.StatusCode}");
            }
            else
            {
                figures.Error($"{kind} {(int)response.StatusCode}");
            }

            response.Dispose();
            if (!busy && (!retry || over.IsCancellationRequested || ++errors == MaxErrors))
            {
                return null;
            }

            await Task.Delay(wait ?? TimeSpan.FromSeconds(1), CancellationToken.None);
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter is { } after
            ? after.Delta ?? (after.Date is { } date ? TimeSpan.FromTicks(Math.Max(0, (date - DateTimeOffset.UtcNow).Ticks)) : null)
            : null;

    /// <summary>Waits, or says false when the class is over first.</summary>
    internal static async Task<bool> WaitAsync(TimeSpan delay, CancellationToken over)
    {
        try
        {
            await Task.Delay(delay, over);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static string FirstError(JsonElement run)
    {
        foreach (var statement in run.GetProperty("statements").EnumerateArray())
        {
            if (statement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                return error.GetProperty("sqlState").GetString() ?? "?";
            }
        }

        return "?";
    }
}
