using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.SqlChain;

public sealed class SqlSplitterTests
{
    [Fact]
    public void SplitsAtSemicolonsAndKeepsAFinalStatementWithoutOne()
    {
        var script = SqlSplitter.Split("SELECT 1; SELECT 2;\nSELECT 3");

        Assert.Equal(["SELECT 1;", "SELECT 2;", "SELECT 3"], Texts(script));
    }

    [Fact]
    public void TextStartsAfterLeadingWhitespaceAndCommentsAndEndsAtTheSemicolon()
    {
        var script = SqlSplitter.Split("  -- setup\n/* the table */\n  CREATE TABLE t (id int) -- trailing\n ;  -- after\n");

        var statement = Assert.Single(script.Statements);
        Assert.Equal("CREATE TABLE t (id int) -- trailing\n ;", statement.Text);
        Assert.Equal(new SourcePosition(3, 3), statement.Span.Start);
        Assert.Equal(new SourcePosition(4, 3), statement.Span.End);
    }

    [Theory]
    [InlineData("SELECT 'a;b';", "SELECT 'a;b';")]
    [InlineData("SELECT 'it''s; here';", "SELECT 'it''s; here';")]
    [InlineData("SELECT E'a\\';b';", "SELECT E'a\\';b';")]
    [InlineData("SELECT U&'d\\0061t;a';", "SELECT U&'d\\0061t;a';")]
    [InlineData("SELECT \"semi;colon\" FROM t;", "SELECT \"semi;colon\" FROM t;")]
    [InlineData("SELECT \"a\"\"b;\";", "SELECT \"a\"\"b;\";")]
    [InlineData("SELECT $$a;b$$;", "SELECT $$a;b$$;")]
    [InlineData("SELECT $fn$ $$;$$ ; $fn$;", "SELECT $fn$ $$;$$ ; $fn$;")]
    [InlineData("SELECT 1 /* a; /* nested; */ still; */ + 1;", "SELECT 1 /* a; /* nested; */ still; */ + 1;")]
    [InlineData("SELECT 1 -- a; comment\n;", "SELECT 1 -- a; comment\n;")]
    [InlineData("SELECT a$b$c FROM t;", "SELECT a$b$c FROM t;")]
    [InlineData("SELECT 'a'\n'b;c';", "SELECT 'a'\n'b;c';")]
    public void SemicolonsInsideQuotesAndCommentsDoNotSplit(string sql, string expected)
    {
        var script = SqlSplitter.Split(sql);

        Assert.True(script.IsValid, string.Join("\n", script.Problems));
        Assert.Equal(expected, Assert.Single(script.Statements).Text);
    }

    [Fact]
    public void AStringContinuedOnTheNextLineIsLexedThereAfreshAsPsqlDoes()
    {
        // The server would continue the E'' string; psql reads the next line as a plain literal and splits.
        var script = SqlSplitter.Split("SELECT E'x'\n'y\\'; SELECT 2;");

        Assert.Equal(["SELECT E'x'\n'y\\';", "SELECT 2;"], Texts(script));
    }

    [Fact]
    public void WhatFollowsCopyOnItsLineRunsBeforeItsDataIsSkipped()
    {
        var script = SqlSplitter.Split("COPY t FROM stdin; SELECT 1;\n1\n\\.\nSELECT 2;");

        Assert.Equal(["COPY t FROM stdin;", "SELECT 1;", "SELECT 2;"], Texts(script));
        Assert.Equal("1\n", script.Statements[0].CopyData);
    }

    [Fact]
    public void SemicolonsInsideParenthesesDoNotSplitAsInPsql()
    {
        var script = SqlSplitter.Split("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO log VALUES (1); DELETE FROM q);\nSELECT 1;");

        Assert.Equal(2, script.Statements.Count);
        Assert.StartsWith("CREATE RULE", script.Statements[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void SqlStandardBodiesStayWholeIncludingCaseEnd()
    {
        const string sql = """
            CREATE OR REPLACE FUNCTION grade(score int) RETURNS text LANGUAGE sql
            BEGIN ATOMIC
              SELECT CASE WHEN score > 90 THEN 'A' ELSE 'B' END;
              SELECT 'done';
            END;
            CREATE PROCEDURE p() BEGIN ATOMIC INSERT INTO t VALUES (1); END;
            SELECT grade(95);
            """;

        var script = SqlSplitter.Split(sql);

        Assert.Equal(3, script.Statements.Count);
        Assert.EndsWith("END;", script.Statements[0].Text, StringComparison.Ordinal);
        Assert.Equal("CREATE PROCEDURE p() BEGIN ATOMIC INSERT INTO t VALUES (1); END;", script.Statements[1].Text);
    }

    [Fact]
    public void BeginOutsideAFunctionDefinitionIsATransactionAndSplits()
    {
        var script = SqlSplitter.Split("BEGIN; INSERT INTO t VALUES (1); END;");

        Assert.Equal(["BEGIN;", "INSERT INTO t VALUES (1);", "END;"], Texts(script));
        Assert.Equal([StatementKind.TransactionStart, StatementKind.Other, StatementKind.TransactionEnd], script.Statements.Select(s => s.Kind));
    }

    [Fact]
    public void EmptyStatementsProduceNothing()
    {
        var script = SqlSplitter.Split(";;  ; -- nothing\nSELECT 1;;\n;");

        Assert.Equal(["SELECT 1;"], Texts(script));
        Assert.Equal(0, script.Statements[0].Index);
    }

    [Fact]
    public void WithStandardConformingStringsOffBackslashesEscapeFromTheNextLine()
    {
        const string sql = "SET standard_conforming_strings = off; SELECT 'a\\';\nSELECT 'b\\';c';\nSET standard_conforming_strings = on;\nSELECT 'c\\';";

        var script = SqlSplitter.Split(sql);

        Assert.True(script.IsValid, string.Join("\n", script.Problems));
        // On the SET's own line the old rule still holds: 'a\' is a whole string.
        Assert.Equal(["SET standard_conforming_strings = off;", "SELECT 'a\\';", "SELECT 'b\\';c';", "SET standard_conforming_strings = on;", "SELECT 'c\\';"], Texts(script));
    }

    [Fact]
    public void ARolledBackSetOfStandardConformingStringsIsUndone()
    {
        const string sql = "BEGIN;\nSET standard_conforming_strings = off;\nROLLBACK;\nSELECT 'a\\';\nSELECT 2;";

        var script = SqlSplitter.Split(sql);

        Assert.Equal("SELECT 'a\\';", script.Statements[3].Text);
        Assert.Equal(5, script.Statements.Count);
    }

    [Fact]
    public void CopyFromStdinTakesTheFollowingLinesUpToTheEndMarker()
    {
        const string sql = "COPY t (a, b) FROM stdin;\n1\tone; not sql\n2\ttwo\n\\.\nSELECT count(*) FROM t;";

        var script = SqlSplitter.Split(sql);

        Assert.True(script.IsValid, string.Join("\n", script.Problems));
        Assert.Equal(2, script.Statements.Count);
        Assert.Equal(StatementKind.CopyFromStdin, script.Statements[0].Kind);
        Assert.Equal("1\tone; not sql\n2\ttwo\n", script.Statements[0].CopyData);
        Assert.Equal(new SourcePosition(5, 1), script.Statements[1].Span.Start);
    }

    [Theory]
    [InlineData("\\copy t from 'data.csv' csv\nSELECT 1;", "\\copy", "COPY ... FROM STDIN")]
    [InlineData("SELECT 1;\n\\i other.sql\n", "\\i", "Put that script into the project")]
    [InlineData("\\set x 1\nSELECT 1;", "\\set", "variables")]
    [InlineData("SELECT 1 \\g\n", "\\g", "semicolon")]
    public void PsqlMetaCommandsAreRefusedWithTheLineAndWhatToWriteInstead(string sql, string command, string hint)
    {
        var script = SqlSplitter.Split(sql, "init/01.sql");

        var problem = Assert.Single(script.Problems);
        Assert.Equal("init/01.sql", problem.File);
        Assert.Contains(command, problem.Message, StringComparison.Ordinal);
        Assert.Contains(hint, problem.Hint, StringComparison.Ordinal);
        Assert.Equal(sql.Split('\n').TakeWhile(l => !l.Contains(command, StringComparison.Ordinal)).Count() + 1, problem.Position.Line);
    }

    [Theory]
    [InlineData("SELECT 'abc;\nSELECT 2;", "quoted string", 1, 8)]
    [InlineData("SELECT 1;\nSELECT \"abc", "quoted identifier", 2, 8)]
    [InlineData("SELECT 1; /* open /* nested */\n", "/* comment", 1, 11)]
    [InlineData("CREATE FUNCTION f() RETURNS int AS $body$\nSELECT 1;\n$$ LANGUAGE sql;", "dollar-quoted string ($body$)", 1, 36)]
    public void AnUnterminatedTokenIsAProblemWithItsPosition(string sql, string what, int line, int column)
    {
        var script = SqlSplitter.Split(sql);

        var problem = Assert.Single(script.Problems);
        Assert.Contains(what, problem.Message, StringComparison.Ordinal);
        Assert.Equal(new SourcePosition(line, column), problem.Position);
        Assert.NotNull(problem.Hint);
    }

    [Fact]
    public void SpansCarryLinesColumnsAndUtf8ByteOffsets()
    {
        const string sql = "-- Привет\nSELECT 'ß';\n  SELECT 2;";

        var script = SqlSplitter.Split(sql, "seed/data.sql");

        var second = script.Statements[1];
        Assert.Equal("seed/data.sql", second.Span.File);
        Assert.Equal(new SourcePosition(3, 3), second.Span.Start);
        Assert.Equal(sql.IndexOf("SELECT 2", StringComparison.Ordinal), second.Span.StartIndex);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(sql[..second.Span.StartIndex]), second.Span.StartByte);
        Assert.Equal(second.Span.StartByte + "SELECT 2;".Length, second.Span.EndByte);
    }

    [Fact]
    public void AServerErrorPositionMapsToTheLineAndColumnTyped()
    {
        var script = SqlSplitter.Split("SELECT 1;\n\nSELECT 'é',\n       nope FROM t;");

        var statement = script.Statements[1];
        // PostgreSQL reports positions in characters from 1: 'nope' is the 19th character here.
        var position = statement.Text.IndexOf("nope", StringComparison.Ordinal) + 1;
        Assert.Equal(new SourcePosition(4, 8), statement.Locate(position));
    }

    [Fact]
    public void SettingsAndTransactionsAreClassified()
    {
        var script = SqlSplitter.Split("SET search_path = s; RESET ALL; SET LOCAL x = 1; SET TRANSACTION READ ONLY; START TRANSACTION; ROLLBACK TO SAVEPOINT a; ROLLBACK; COMMIT PREPARED 'x'; PREPARE TRANSACTION 'x';");

        Assert.Equal(
            [StatementKind.Session, StatementKind.Session, StatementKind.Other, StatementKind.Other, StatementKind.TransactionStart,
             StatementKind.Other, StatementKind.TransactionEnd, StatementKind.Other, StatementKind.TransactionEnd],
            script.Statements.Select(s => s.Kind));
    }

    [Fact]
    public void SeveralFilesSplitAsOneSession()
    {
        var script = SqlSplitter.Split([new SqlSource("init/a.sql", "SET standard_conforming_strings = off;\n"), new SqlSource("seed/b.sql", "SELECT 'x\\';y';")]);

        Assert.Equal("SELECT 'x\\';y';", script.Statements[1].Text);
        Assert.Equal(1, script.Statements[1].Index);
        Assert.Equal("seed/b.sql", script.Statements[1].Span.File);
    }

    private static string[] Texts(SqlScript script) => [.. script.Statements.Select(s => s.Text)];
}
