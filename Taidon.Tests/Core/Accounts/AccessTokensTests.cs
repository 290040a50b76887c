using Taidon.Core.Accounts;

namespace Taidon.Tests.Core.Accounts;

public sealed class AccessTokensTests
{
    [Fact]
    public void GeneratedTokensHaveThePrefixAndAreUnique()
    {
        var tokens = Enumerable.Range(0, 200).Select(_ => AccessTokens.Generate()).ToList();

        Assert.All(tokens, t => Assert.True(AccessTokens.LooksLikeToken(t), t));
        Assert.All(tokens, t => Assert.StartsWith("tdn_", t, StringComparison.Ordinal));
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
    }

    [Fact]
    public void HashIsLowercaseHexSha256AndStable()
    {
        var hash = AccessTokens.Hash("tdn_example");

        Assert.Equal(64, hash.Length);
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Equal(hash, AccessTokens.Hash("tdn_example"));
        Assert.NotEqual(hash, AccessTokens.Hash("tdn_examplf"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("tdn_short")]
    [InlineData("ghp_0123456789012345678901234567890123456789012")]
    [InlineData("tdn_01234567890123456789012345678901234567890+/")]
    public void MalformedTokensAreRecognisedWithoutALookup(string? token) =>
        Assert.False(AccessTokens.LooksLikeToken(token));

    [Fact]
    public void DisplayPartShowsOnlyTheBeginning()
    {
        var token = AccessTokens.Generate();

        Assert.Equal(token[..AccessTokens.DisplayLength], AccessTokens.DisplayPart(token));
    }
}
