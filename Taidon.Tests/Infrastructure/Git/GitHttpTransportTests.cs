using LibGit2Sharp;
using Taidon.Infrastructure.Git;
using Taidon.Tests.Support;

namespace Taidon.Tests.Infrastructure.Git;

public sealed class GitHttpTransportTests
{
    [Fact]
    public async Task LibGit2OutsideAGitServiceSessionReachesNothing()
    {
        GitHttpTransport.Register();
        await using var server = RecordingHttpServer.AskingForALogin();

        var refused = Assert.ThrowsAny<LibGit2SharpException>(() => LibGit2Sharp.Repository.ListRemoteReferences(server.Url("course.git")).ToList());

        Assert.Contains("no remote session", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Connections);
    }
}
