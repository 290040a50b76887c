using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Taidon.Core.SqlChain;

namespace Taidon.Web.Features.SqlChain;

/// <summary>The SQL chain over HTTP: how a script splits, what each statement normalizes to, and its state key.</summary>
public static class SqlChainApi
{
    public const int MaxRequestBytes = 16 * 1024 * 1024;
    public const int MaxFiles = 1000;

    public static void MapSqlChainApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/sql/analyze", Analyze)
            .WithTags("SQL chain")
            .RequireAuthorization(DependencyInjection.ApiPolicy)
            .WithMetadata(new RequestSizeLimitAttribute(MaxRequestBytes))
            .WithSummary("Splits a script (or the files of a chain) as psql would, and returns each statement with its normalized form, chain key and place.")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }

    public sealed record AnalyzeRequest(
        [property: Description("One script to analyze.")] string? Script,
        [property: Description("The file name to report in spans for 'script' (default script.sql).")] string? Path,
        [property: Description("Or several files of a chain: init/, seed/, test/, bench/ scripts go in chain order, others follow in the order given.")] IReadOnlyList<AnalyzeFile>? Files);

    public sealed record AnalyzeFile(string Path, string Content);

    public sealed record AnalyzeResponse(string Root, IReadOnlyList<StatementResult> Statements);

    public sealed record StatementResult(int Index, string Text, string Normalized, string Key, string ShortKey, StatementKind Kind, SpanResult Span, bool HasCopyData);

    public sealed record SpanResult(string File, int StartLine, int StartColumn, int EndLine, int EndColumn, long StartByte, long EndByte);

    public sealed record ProblemResult(string File, int Line, int Column, long ByteOffset, string Message, string? Hint);

    private static Results<Ok<AnalyzeResponse>, ProblemHttpResult> Analyze(AnalyzeRequest request, IEngineIdentitySource engine)
    {
        if ((request.Script is null) == (request.Files is null))
        {
            return TypedResults.Problem("Send either \"script\" (one script) or \"files\" (the files of a chain), not both and not neither.", statusCode: 400, title: "Nothing to analyze");
        }

        IReadOnlyList<SqlSource> sources;
        if (request.Script is not null)
        {
            sources = [new SqlSource(string.IsNullOrWhiteSpace(request.Path) ? "script.sql" : request.Path, request.Script)];
        }
        else
        {
            var files = request.Files!;
            if (files.Count > MaxFiles)
            {
                return TypedResults.Problem($"A chain can have at most {MaxFiles} files; this one has {files.Count}.", statusCode: 400, title: "Too many files");
            }

            if (files.FirstOrDefault(f => string.IsNullOrWhiteSpace(f.Path) || f.Path.Length > 512 || f.Content is null) is { } bad)
            {
                return TypedResults.Problem($"Every file needs a path of 1 to 512 characters and a content; '{bad.Path}' has not.", statusCode: 400, title: "Invalid file");
            }

            sources = ChainAnalysis.InChainOrder([.. files.Select(f => new SqlSource(f.Path, f.Content))]);
        }

        var chain = ChainAnalysis.Analyze(sources, engine.Identity);
        var statements = chain.Statements.Select(s => new StatementResult(
            s.Index,
            s.Text,
            s.Normalized,
            chain.Keys[s.Index + 1].ToString(),
            chain.Keys[s.Index + 1].Short,
            s.Kind,
            new SpanResult(s.Span.File, s.Span.Start.Line, s.Span.Start.Column, s.Span.End.Line, s.Span.End.Column, s.Span.StartByte, s.Span.EndByte),
            s.CopyData is not null)).ToList();

        if (!chain.IsValid)
        {
            var first = chain.Problems[0];
            return TypedResults.Problem(
                detail: $"{first.File}, line {first.Position.Line}, column {first.Position.Column}: {first.Message}{(first.Hint is null ? "" : " " + first.Hint)}",
                statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "The script cannot be split",
                extensions: new Dictionary<string, object?>
                {
                    ["problems"] = chain.Problems.Select(p => new ProblemResult(p.File, p.Position.Line, p.Position.Column, p.ByteOffset, p.Message, p.Hint)).ToList(),
                    ["statements"] = statements,
                });
        }

        return TypedResults.Ok(new AnalyzeResponse(chain.Root.ToString(), statements));
    }
}
