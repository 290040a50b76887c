using Taidon.Core.Projects;
using Taidon.Infrastructure.Projects;

namespace Taidon.Tests.Infrastructure.Projects;

/// <summary>Projects on a real file system: atomic saves, checked paths, links never followed, limits named.</summary>
public sealed class FileProjectStoreTests : IDisposable
{
    private const string Account = "0b6f3c9e-58a1-4c2e-9b7d-1f2a3b4c5d6e";
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"tdn-projects-{Guid.NewGuid():N}");
    private readonly string _outside = Path.Combine(Path.GetTempPath(), $"tdn-outside-{Guid.NewGuid():N}");
    private readonly Guid _project = Guid.NewGuid();
    private readonly FileProjectStore _store;

    public FileProjectStoreTests()
    {
        Directory.CreateDirectory(_outside);
        Directory.CreateDirectory(_root);
        File.WriteAllText(Path.Combine(_outside, "secret.sql"), "SELECT 'secret';");
        _store = new FileProjectStore(_root, new ProjectLimits(MaxScriptBytes: 1024, MaxProjectBytes: 4096, MaxScripts: 5), TimeProvider.System);
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    [Fact]
    public async Task ScriptsAreSavedAndReadBackInChainOrderWithoutLeftovers()
    {
        await _store.SaveAsync(Account, _project, "test/01_check.sql", "SELECT 1;", CancellationToken.None);
        await _store.SaveAsync(Account, _project, "seed/01_data.sql", "INSERT INTO t VALUES (1);", CancellationToken.None);
        await _store.SaveAsync(Account, _project, "init/01_schema.sql", "CREATE TABLE t (id int);", CancellationToken.None);
        await _store.SaveAsync(Account, _project, "seed/01_data.sql", "INSERT INTO t VALUES (2);", CancellationToken.None);

        var scripts = await _store.ReadAsync(Account, _project, CancellationToken.None);

        Assert.Equal(["init/01_schema.sql", "seed/01_data.sql", "test/01_check.sql"], scripts.Select(s => s.Path));
        Assert.Equal("INSERT INTO t VALUES (2);", scripts[1].Content);
        Assert.DoesNotContain(Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RenamingAndDeletingKeepTheRestAndRefuseClashes()
    {
        await _store.SaveAsync(Account, _project, "test/01_a.sql", "SELECT 1;", CancellationToken.None);
        await _store.SaveAsync(Account, _project, "test/02_b.sql", "SELECT 2;", CancellationToken.None);

        await _store.RenameAsync(Account, _project, "test/01_a.sql", "bench/01_a.sql", CancellationToken.None);
        var clash = await Assert.ThrowsAsync<ProjectRefusedException>(() => _store.RenameAsync(Account, _project, "test/02_b.sql", "bench/01_a.sql", CancellationToken.None));
        await _store.DeleteAsync(Account, _project, "test/02_b.sql", CancellationToken.None);

        Assert.Contains("already", clash.Message, StringComparison.Ordinal);
        Assert.Equal(["bench/01_a.sql"], (await _store.ReadAsync(Account, _project, CancellationToken.None)).Select(s => s.Path));
    }

    [Theory]
    [InlineData("../../outside.sql")]
    [InlineData("/etc/passwd")]
    [InlineData("seed/../../../x.sql")]
    [InlineData("notes/x.sql")]
    public async Task AHostilePathIsRefusedAndNothingIsWritten(string path)
    {
        await Assert.ThrowsAsync<ProjectRefusedException>(() => _store.SaveAsync(Account, _project, path, "SELECT 1;", CancellationToken.None));

        Assert.Empty(Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task LinksLeadingOutsideAreNeitherReadNorWrittenThrough()
    {
        await _store.SaveAsync(Account, _project, "init/01_schema.sql", "CREATE TABLE t (id int);", CancellationToken.None);
        var folder = Path.Combine(_root, Account, _project.ToString("N"));
        File.CreateSymbolicLink(Path.Combine(folder, "init", "02_secret.sql"), Path.Combine(_outside, "secret.sql"));
        Directory.CreateSymbolicLink(Path.Combine(folder, "seed"), _outside);

        var scripts = await _store.ReadAsync(Account, _project, CancellationToken.None);
        var throughFile = await Assert.ThrowsAsync<ProjectRefusedException>(() => _store.SaveAsync(Account, _project, "init/02_secret.sql", "DROP TABLE t;", CancellationToken.None));
        var throughFolder = await Assert.ThrowsAsync<ProjectRefusedException>(() => _store.SaveAsync(Account, _project, "seed/new.sql", "SELECT 1;", CancellationToken.None));

        Assert.Equal(["init/01_schema.sql"], scripts.Select(s => s.Path));
        Assert.Contains("link", throughFile.Message, StringComparison.Ordinal);
        Assert.Contains("link", throughFolder.Message, StringComparison.Ordinal);
        Assert.Equal("SELECT 'secret';", File.ReadAllText(Path.Combine(_outside, "secret.sql")));
        Assert.Equal(["secret.sql"], Directory.EnumerateFiles(_outside).Select(Path.GetFileName));

        await _store.DeleteProjectAsync(Account, _project, CancellationToken.None);
        Assert.True(File.Exists(Path.Combine(_outside, "secret.sql")), "deleting a project removes links, not what they point to");
    }

    [Fact]
    public async Task LimitsAreNamedWhenReached()
    {
        var big = await Assert.ThrowsAsync<ProjectRefusedException>(() => _store.SaveAsync(Account, _project, "seed/big.sql", new string('x', 2000), CancellationToken.None));
        for (var i = 0; i < 4; i++)
        {
            await _store.SaveAsync(Account, _project, $"seed/{i}.sql", new string('x', 1000), CancellationToken.None);
        }

        var full = await Assert.ThrowsAsync<ProjectRefusedException>(() => _store.SaveAsync(Account, _project, "seed/4.sql", new string('x', 500), CancellationToken.None));

        Assert.Contains("at most 1 KB", big.Message, StringComparison.Ordinal);
        Assert.Contains("may hold 4 KB", full.Message, StringComparison.Ordinal);
    }
}
