using System.Globalization;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using Taidon.Core.Instances;
using Taidon.Core.Runs;
using Taidon.Core.SqlChain;
using Taidon.Web.Features.Localization;
using Taidon.Web.Features.Workspace;

namespace Taidon.Tests.Components;

/// <summary>The workspace's side panels and texts: instance, schema, history, plan chip, completion words.</summary>
public sealed class WorkspacePanelsTests : ComponentTestContext
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    public WorkspacePanelsTests() => Services.AddSingleton<TimeProvider>(new FixedClock(Now));

    [Fact]
    public void TheInstancePanelCountsDownToTheIdleStopAndExpiryAndOffersItsActions()
    {
        var restarted = 0;
        var instance = new Instance
        {
            Id = Guid.NewGuid(),
            OwnerId = "a",
            State = InstanceState.Running,
            StateKey = new string('a', 64),
            CreatedAt = Now.AddHours(-1),
            LastActivityAt = Now.AddMinutes(-5),
            ExpiresAt = Now.AddHours(30),
        };
        SignInAs("student");

        var panel = Render<InstancePanel>(p => p
            .Add(x => x.Instance, instance)
            .Add(x => x.IdleAfter, TimeSpan.FromMinutes(15))
            .Add(x => x.OnRestart, () => restarted++));

        Assert.Equal("running", panel.Find("[data-testid=instance-status]").TextContent);
        Assert.Equal("10:00", panel.Find("[data-testid=instance-idle]").TextContent);
        Assert.Equal("1 d 6 h", panel.Find("[data-testid=instance-expiry]").TextContent);
        Assert.Equal("aaaaaaaaaaaa", panel.Find("[data-testid=instance-state-key]").TextContent);
        panel.Find("[data-testid=instance-restart]").Click();
        Assert.Equal(1, restarted);

        panel.Render(p => p.Add(x => x.Busy, true));
        Assert.True(panel.Find("[data-testid=instance-restart]").HasAttribute("disabled"));
    }

    [Fact]
    public void WithoutAnInstanceThePanelSaysWhenOneStarts()
    {
        SignInAs("student");

        var panel = Render<InstancePanel>();

        Assert.Contains("first run", panel.Find("[data-testid=instance-none]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSchemaTreeShowsRelationsWithColumnsIndexesAndFunctionsBySchema()
    {
        SignInAs("student");
        var schema = new DatabaseSchema(
            [
                new SchemaRelation("public", "books", "table", [new SchemaColumn("id", "integer", true), new SchemaColumn("title", "text", false)], ["books_pkey ON books (id)"]),
                new SchemaRelation("shop", "sales", "view", [new SchemaColumn("total", "numeric", false)], []),
            ],
            [new SchemaFunction("public", "price_with_tax", "price numeric", "numeric")]);

        var tree = Render<SchemaBrowser>(p => p.Add(x => x.Schema, schema));

        Assert.Equal(["books", "sales"], tree.FindAll("[data-testid=schema-relation]").Select(r => r.GetAttribute("data-name")));
        Assert.Equal(["id integer not null", "title text", "total numeric"], tree.FindAll("[data-testid=schema-column]").Select(c => c.TextContent));
        Assert.Contains("index books_pkey", tree.Markup, StringComparison.Ordinal);
        Assert.Contains("price_with_tax(price numeric)", tree.Find("[data-testid=schema-function]").TextContent, StringComparison.Ordinal);

        tree.Render(p => p.Add(x => x.Schema, new DatabaseSchema([], [])));
        Assert.Equal("The database is empty.", tree.Find("[data-testid=schema-empty]").TextContent);
    }

    [Fact]
    public void TheHistoryOpensARunToShowItsTextAndPutsItBack()
    {
        SignInAs("student");
        RunHistoryEntry? putBack = null;
        var runs = new[]
        {
            History("test/02_bad.sql", "SELECT nosuch;", "failed", Now.AddMinutes(-3), "42703: column \"nosuch\" does not exist"),
            History("test/01_ok.sql", "SELECT 1;", "succeeded", Now.AddHours(-2), null),
        };

        var list = Render<RunHistoryList>(p => p.Add(x => x.Runs, runs).Add(x => x.OnPutBack, r => putBack = r));

        var items = list.FindAll("[data-testid=history-item]");
        Assert.Equal(["test/02_bad.sql", "test/01_ok.sql"], items.Select(i => i.GetAttribute("data-path")));
        Assert.Contains("3 min ago", items[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("2 h ago", items[1].TextContent, StringComparison.Ordinal);
        Assert.Empty(list.FindAll("[data-testid=history-detail]"));

        list.FindAll(".tdn-history-line")[0].Click();
        Assert.Equal("SELECT nosuch;", list.Find("[data-testid=history-text]").TextContent);
        Assert.Contains("42703", list.Find("[data-testid=history-error]").TextContent, StringComparison.Ordinal);
        list.Find("[data-testid=history-put-back]").Click();
        Assert.Same(runs[0], putBack);
    }

    [Fact]
    public void ThePlanChipSaysHowTheRunStartedInTheStudentsLanguage()
    {
        var key = ChainKey.Parse(new string('b', 64));
        var restored = new RunPlan(RunStart.RestoreLayer, 5, key, [], [], 5, 8, TimeSpan.Zero);
        var hot = new RunPlan(RunStart.Hot, 9, key, [], [], 7, 10, TimeSpan.Zero);
        var t = Services.GetRequiredService<IStringLocalizer<Strings>>();

        Assert.Equal("restored layer bbbbbbbbbbbb, replayed 0 statements", RunTexts.Plan(t, restored));
        Assert.Equal("hot, 2 of the script's statements cached", RunTexts.Plan(t, hot));
        Assert.Equal("Replaying statement 3 of 40", RunTexts.Progress(t, new RunProgress(3, 40, RunPhase.Replaying)));

        var before = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("ru");
            Assert.Equal("восстановлен слой bbbbbbbbbbbb, повторено операторов: 0", RunTexts.Plan(t, restored));
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
    }

    [Fact]
    public void CompletionOffersTablesColumnsAndFunctionsQuotedWhereSqlNeedsIt()
    {
        var schema = new DatabaseSchema(
            [
                new SchemaRelation("public", "books", "table", [new SchemaColumn("id", "integer", true), new SchemaColumn("Title", "text", false)], []),
                new SchemaRelation("public", "authors", "table", [new SchemaColumn("id", "integer", true)], []),
                new SchemaRelation("shop", "sales", "view", [], []),
            ],
            [new SchemaFunction("public", "price_with_tax", "price numeric", "numeric")]);

        var words = SchemaCompletions.From(schema);

        Assert.Contains(words, w => w is { Label: "books", Insert: "books", Kind: "table" });
        Assert.Contains(words, w => w is { Label: "shop.sales", Insert: "shop.sales", Kind: "view" });
        Assert.Contains(words, w => w is { Label: "shop", Kind: "schema" });
        Assert.Contains(words, w => w is { Label: "Title", Insert: "\"Title\"", Kind: "column" });
        Assert.Single(words, w => w.Label == "id");
        Assert.Contains(words, w => w is { Label: "price_with_tax", Kind: "function" });
        Assert.Empty(SchemaCompletions.From(null));
    }

    private static RunHistoryEntry History(string path, string text, string outcome, DateTimeOffset at, string? error) => new()
    {
        Id = Guid.NewGuid(),
        OwnerId = "a",
        ScriptPath = path,
        Text = text,
        WholeScript = true,
        StartedAt = at,
        Outcome = outcome,
        Start = RunStartKind.RestoreLayer,
        FromKey = new string('c', 64),
        Replayed = 3,
        HeadStatements = 1,
        Error = error,
    };

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
