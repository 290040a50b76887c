namespace Taidon.Infrastructure.LocalRuntime;

/// <summary>An unprivileged operating-system account that PostgreSQL processes run as when Taidon runs as root.</summary>
public sealed record OsUser(string Name, int Uid, int Gid)
{
    private static readonly string[] DefaultCandidates = ["postgres", "taidon"];

    public static bool CurrentIsRoot => Environment.UserName == "root" || GetEffectiveUid() == 0;

    /// <summary>
    /// The account to run PostgreSQL as: null when Taidon is not root (it runs its clusters itself);
    /// otherwise the configured account, else <c>postgres</c>, else <c>taidon</c>, which is created as a
    /// system account when neither exists.
    /// </summary>
    public static OsUser? ForPostgres(string? configuredName)
    {
        if (!CurrentIsRoot)
        {
            return null;
        }

        if (!string.IsNullOrWhiteSpace(configuredName))
        {
            return Find(configuredName)
                ?? throw new InvalidOperationException(
                    $"Taidon:Postgres:OsUser is '{configuredName}', but no such account exists. Create it (useradd --system {configuredName}) or leave the setting empty.");
        }

        foreach (var candidate in DefaultCandidates)
        {
            if (Find(candidate) is { } user)
            {
                return user;
            }
        }

        var created = ProcessRunner.Run("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", "taidon"], null, TimeSpan.FromSeconds(30));
        if (created.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"Taidon runs as root and PostgreSQL refuses root, but no unprivileged account could be created: {created.StandardError.Trim()}. Set Taidon:Postgres:OsUser to an existing account.");
        }

        return Find("taidon") ?? throw new InvalidOperationException("The account 'taidon' was created but cannot be found.");
    }

    public static OsUser? Find(string name)
    {
        var result = ProcessRunner.Run("getent", ["passwd", name], null, TimeSpan.FromSeconds(10));
        if (result.ExitCode != 0)
        {
            return null;
        }

        // name:x:uid:gid:gecos:home:shell
        var fields = result.StandardOutput.Trim().Split(':');
        return fields.Length >= 4 && int.TryParse(fields[2], out var uid) && int.TryParse(fields[3], out var gid)
            ? new OsUser(fields[0], uid, gid)
            : null;
    }

    /// <summary>Gives a file or directory to this account (recursively for directories).</summary>
    public void Own(string path)
    {
        var result = ProcessRunner.Run("chown", ["-R", $"{Uid}:{Gid}", path], null, TimeSpan.FromMinutes(5));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"Could not give '{path}' to the account '{Name}': {result.StandardError.Trim()}");
        }
    }

    private static int GetEffectiveUid()
    {
        try
        {
            var status = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            var fields = status?.Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries);
            return fields is { Length: >= 3 } && int.TryParse(fields[2], out var euid) ? euid : -1;
        }
        catch (IOException)
        {
            return -1;
        }
    }
}
