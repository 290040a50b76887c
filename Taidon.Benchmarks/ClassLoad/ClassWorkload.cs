using System.Globalization;

namespace Taidon.Benchmarks.ClassLoad;

/// <summary>
/// The fixed workload of a class, written down before any tuning: a course project (an init/ script
/// that builds three tables with about 25,000 rows, a test/ exercise that creates a view and counts a
/// join), students arriving within <see cref="ArrivalWindow"/>, each editing the exercise every
/// <see cref="ThinkMin"/> to <see cref="ThinkMax"/>, saving it and running it: every other edit changes state (the view), the
/// others only read.
/// </summary>
public sealed record ClassWorkload(
    int Students,
    TimeSpan Duration,
    TimeSpan ArrivalWindow,
    TimeSpan ThinkMin,
    TimeSpan ThinkMax,
    int Browsers,
    int Seed = 1)
{
    /// <summary>When the class has arrived and had its first answers: the arrival window and one minute more.</summary>
    public TimeSpan SteadyFrom => ArrivalWindow + TimeSpan.FromMinutes(1);

    /// <summary>A student's think time before the next edit: between <see cref="ThinkMin"/> and <see cref="ThinkMax"/>.</summary>
    public TimeSpan Think(Random random) => ThinkMin + TimeSpan.FromTicks((long)(random.NextDouble() * (ThinkMax - ThinkMin).Ticks));

    public static ClassWorkload Default(int students, TimeSpan duration, int browsers) =>
        new(students, duration, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), browsers);

    /// <summary>A handful of students for a few seconds: keeps the harness working in CI.</summary>
    public static ClassWorkload Smoke { get; } =
        new(3, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), 0);

    public const string InitPath = "init/01_schema.sql";

    public const string ExercisePath = "test/01_exercise.sql";

    /// <summary>Three tables, about 25,000 rows in all, with keys and an index: what a course's init/ builds.</summary>
    public const string Init = """
        CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL);
        CREATE TABLE books (id int PRIMARY KEY, author_id int NOT NULL REFERENCES authors (id), title text NOT NULL, year int NOT NULL);
        CREATE TABLE loans (id int PRIMARY KEY, book_id int NOT NULL REFERENCES books (id), days int NOT NULL);
        INSERT INTO authors SELECT i, 'author ' || i, (ARRAY['fr', 'de', 'ru', 'jp', 'br'])[1 + i % 5] FROM generate_series(1, 1000) AS i;
        INSERT INTO books SELECT i, 1 + i % 1000, 'book ' || i, 1900 + i % 120 FROM generate_series(1, 8000) AS i;
        INSERT INTO loans SELECT i, 1 + (i * 7) % 8000, 1 + i % 30 FROM generate_series(1, 16000) AS i;
        CREATE INDEX loans_book ON loans (book_id);
        ANALYZE;
        """;

    /// <summary>The exercise after <paramref name="edit"/> edits: even edits move the view (state), odd ones only the query.</summary>
    public static string Exercise(int edit)
    {
        var year = 1900 + (edit / 2 % 100);
        var days = 1 + edit % 29;
        return string.Create(CultureInfo.InvariantCulture, $"""
            CREATE VIEW recent_books AS SELECT b.id, b.title, a.country FROM books b JOIN authors a ON a.id = b.author_id WHERE b.year >= {year};
            SELECT r.country, count(*) AS loans FROM recent_books r JOIN loans l ON l.book_id = r.id WHERE l.days >= {days} GROUP BY r.country ORDER BY r.country;
            """);
    }

    /// <summary>Whether the edit changes the state the exercise builds (the view), or only what it reads.</summary>
    public static bool ChangesState(int edit) => edit % 2 == 0;
}
