namespace Taidon.Web.Features.Workspace;

/// <summary>One test script's result: null while waiting, then passed or failed with the error.</summary>
public sealed class TestResult(string path)
{
    public string Path { get; } = path;

    public bool? Passed { get; set; }

    public string? Message { get; set; }
}
