using Taidon.Core.Projects;

namespace Taidon.Tests.Core.Projects;

public sealed class ProjectPathTests
{
    [Theory]
    [InlineData("seed/01_data.sql", "seed/01_data.sql")]
    [InlineData("  test/exercises/02 joins.sql ", "test/exercises/02 joins.sql")]
    [InlineData("init/01_схема.sql", "init/01_схема.sql")]
    public void AScriptInAChainFolderIsKept(string path, string expected) =>
        Assert.Equal(expected, ProjectPath.Normalize(path));

    [Theory]
    [InlineData("", "needs a name")]
    [InlineData("../etc/passwd.sql", "'..' part")]
    [InlineData("seed/../../x.sql", "'..' part")]
    [InlineData("/etc/x.sql", "absolute path")]
    [InlineData("C:/x.sql", "absolute path")]
    [InlineData("seed\\x.sql", "separate folders with '/'")]
    [InlineData("seed//x.sql", "empty")]
    [InlineData("seed/.hidden.sql", "hidden")]
    [InlineData("seed/x.sql.", "hidden")]
    [InlineData("seed/x;rm -rf.sql", "a character other than")]
    [InlineData("seed/x\u0000.sql", "a character other than")]
    [InlineData("notes/x.sql", "not in a chain folder")]
    [InlineData("x.sql", "not in a chain folder")]
    [InlineData("seed/readme.md", "does not end in .sql")]
    [InlineData("seed/a/b/c/d.sql", "folders deep")]
    public void AHostilePathIsRefusedWithTheReason(string path, string reason)
    {
        Assert.False(ProjectPath.TryNormalize(path, out _, out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOverlongPathIsRefused()
    {
        var problem = Assert.Throws<ArgumentException>(() => ProjectPath.Normalize("seed/" + new string('a', 300) + ".sql")).Message;
        Assert.Contains("at most 200", problem, StringComparison.Ordinal);
    }
}
