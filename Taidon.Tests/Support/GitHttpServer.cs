using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Taidon.Tests.Support;

/// <summary>
/// A real Git server for the tests: lighttpd on loopback running git-http-backend behind basic
/// authentication (Debian's lighttpd and git). Repositories are bare, under a temporary folder.
/// </summary>
public sealed class GitHttpServer : IAsyncDisposable
{
    public const string User = "teacher";
    public const string Password = "s3cret-token-4f9a";

    private readonly Process _process;

    private GitHttpServer(string root, int port, Process process)
    {
        Root = root;
        Port = port;
        _process = process;
    }

    public string Root { get; }

    public int Port { get; }

    /// <summary>host:port.</summary>
    public string Host => $"127.0.0.1:{Port}";

    /// <summary>What a token is saved for: the server speaks plain http, and a token saved for https never goes there.</summary>
    public string TokenHost => "http://" + Host;

    public string Url(string repository) => $"http://{Host}/git/{repository}.git";

    /// <summary>The same repository where anyone may read (a teacher's public course); pushing still needs the token.</summary>
    public string PublicUrl(string repository) => $"http://{Host}/public/{repository}.git";

    public static async Task<GitHttpServer> StartAsync()
    {
        var lighttpd = new[] { "/usr/sbin/lighttpd", "/usr/bin/lighttpd" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("The Git tests need lighttpd (Debian package lighttpd); scripts/test.sh installs it when it can.");
        const string backend = "/usr/lib/git-core/git-http-backend";
        if (!File.Exists(backend))
        {
            throw new InvalidOperationException("The Git tests need git-http-backend (Debian package git).");
        }

        var root = Directory.CreateTempSubdirectory("taidon-git-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "repos"));
        Directory.CreateDirectory(Path.Combine(root, "www"));
        await File.WriteAllTextAsync(Path.Combine(root, "users"), $"{User}:{Password}\n");
        var port = Loopback.FreePort();
        await File.WriteAllTextAsync(Path.Combine(root, "lighttpd.conf"), $$"""
            server.modules = ("mod_alias", "mod_auth", "mod_authn_file", "mod_setenv", "mod_cgi")
            server.document-root = "{{root}}/www"
            server.bind = "127.0.0.1"
            server.port = {{port}}
            server.errorlog = "{{root}}/error.log"
            server.pid-file = "{{root}}/lighttpd.pid"
            alias.url = ("/git/" => "{{backend}}/", "/public/" => "{{backend}}/")
            auth.backend = "plain"
            auth.backend.plain.userfile = "{{root}}/users"
            $HTTP["url"] =~ "^/(git|public)/" {
                cgi.assign = ("" => "")
                setenv.set-environment = ("GIT_PROJECT_ROOT" => "{{root}}/repos", "GIT_HTTP_EXPORT_ALL" => "1")
            }
            $HTTP["url"] =~ "^/git/" {
                auth.require = ("" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
            }
            $HTTP["url"] =~ "^/public/.*git-receive-pack$" {
                auth.require = ("" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
            }
            $HTTP["querystring"] =~ "service=git-receive-pack" {
                auth.require = ("" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
            }
            """);
        var process = Process.Start(new ProcessStartInfo(lighttpd, ["-D", "-f", Path.Combine(root, "lighttpd.conf")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var server = new GitHttpServer(root, port, process);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException("lighttpd stopped at once: " + await process.StandardError.ReadToEndAsync()
                    + (File.Exists(Path.Combine(root, "error.log")) ? await File.ReadAllTextAsync(Path.Combine(root, "error.log")) : ""));
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        await server.DisposeAsync();
        throw new InvalidOperationException("lighttpd did not listen within 5 s.");
    }

    /// <summary>A bare repository with one commit of these files (path, content) on main.</summary>
    public async Task CreateRepositoryAsync(string name, IReadOnlyDictionary<string, string> files, string message = "Course")
    {
        var bare = Path.Combine(Root, "repos", name + ".git");
        await GitAsync(Root, "init", "--bare", "--initial-branch=main", bare);
        await GitAsync(bare, "config", "http.receivepack", "true");
        var work = Directory.CreateTempSubdirectory("taidon-git-work-").FullName;
        try
        {
            await GitAsync(work, "init", "--initial-branch=main");
            await WriteAndCommitAsync(work, files, message);
            await GitAsync(work, "push", bare, "main");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>A teacher's later commit straight into the repository (not through Taidon).</summary>
    public async Task CommitAsync(string name, IReadOnlyDictionary<string, string> files, string message)
    {
        var bare = Path.Combine(Root, "repos", name + ".git");
        var work = Directory.CreateTempSubdirectory("taidon-git-work-").FullName;
        try
        {
            await GitAsync(work, "clone", "--branch", "main", bare, ".");
            await WriteAndCommitAsync(work, files, message);
            await GitAsync(work, "push", "origin", "main");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The subjects of the commits on main, newest first.</summary>
    public async Task<IReadOnlyList<string>> LogAsync(string name) =>
        (await GitAsync(Path.Combine(Root, "repos", name + ".git"), "log", "--format=%s", "main")).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A file's content on main.</summary>
    public Task<string> ShowAsync(string name, string path) => GitAsync(Path.Combine(Root, "repos", name + ".git"), "show", $"main:{path}");

    private static async Task WriteAndCommitAsync(string work, IReadOnlyDictionary<string, string> files, string message)
    {
        foreach (var (path, content) in files)
        {
            var file = Path.Combine(work, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            if (content.StartsWith("symlink:", StringComparison.Ordinal))
            {
                File.CreateSymbolicLink(file, content["symlink:".Length..]);
            }
            else
            {
                await File.WriteAllTextAsync(file, content);
            }
        }

        await GitAsync(work, "add", "-A");
        await GitAsync(work, "-c", "user.name=Teacher", "-c", "user.email=teacher@school.test", "commit", "-m", message);
    }

    private static async Task<string> GitAsync(string directory, params string[] arguments)
    {
        var info = new ProcessStartInfo("git", arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        info.Environment["HOME"] = directory;
        using var git = Process.Start(info)!;
        var output = await git.StandardOutput.ReadToEndAsync();
        var error = await git.StandardError.ReadToEndAsync();
        await git.WaitForExitAsync();
        return git.ExitCode == 0 ? output : throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed: {error}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}
