using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.SqlChain;

public sealed class SqlNormalizerTests
{
    [Theory]
    [InlineData("SELECT a,b FROM t", "select a , b\nfrom   t -- why")]
    [InlineData("select count(*) from t where x=1", "SELECT COUNT ( * ) FROM T WHERE X = 1 /* c */")]
    [InlineData("SELECT 1e5", "select 1E5")]
    [InlineData("SELECT E'x'", "SELECT e'x'")]
    [InlineData("SELECT a::int", "SELECT a :: INT")]
    [InlineData("SELECT t.* FROM t", "SELECT t . * FROM t")]
    [InlineData("SELECT 1+2", "SELECT 1 + 2")]
    [InlineData("SELECT a+-b", "SELECT a + - b")]
    public void WhatPostgresReadsTheSameNormalizesTheSame(string a, string b) =>
        Assert.Equal(SqlNormalizer.Normalize(a), SqlNormalizer.Normalize(b));

    [Theory]
    [InlineData("SELECT 'a'", "SELECT 'A'")]
    [InlineData("SELECT \"A\" FROM t", "SELECT a FROM t")]
    [InlineData("SELECT 'a  b'", "SELECT 'a b'")]
    [InlineData("SELECT $$x  y$$", "SELECT $$x y$$")]
    [InlineData("SELECT 'a' 'b'", "SELECT 'a'\n'b'")]
    [InlineData("SELECT 1.5", "SELECT 1 . 5")]
    [InlineData("SELECT a<=b", "SELECT a< =b")]
    [InlineData("SELECT a - -1", "SELECT a - 1")]
    [InlineData("SELECT u&\"x\"", "SELECT u & \"x\"")]
    [InlineData("SELECT E'x'", "SELECT E 'x'")]
    [InlineData("SELECT a:=1", "SELECT a: =1")]
    [InlineData("SELECT $1", "SELECT $ 1")]
    [InlineData("SELECT 1.0", "SELECT 1.00")]
    public void AnythingPostgresCouldSeeChangesTheNormalizedForm(string a, string b) =>
        Assert.NotEqual(SqlNormalizer.Normalize(a), SqlNormalizer.Normalize(b));

    [Fact]
    public void TheNormalizedFormIsCompactAndReadable()
    {
        Assert.Equal(
            "create table t(id int primary key,name text not null default 'it''s')",
            SqlNormalizer.Normalize("CREATE TABLE t (\n  id   INT PRIMARY KEY, -- key\n  name TEXT NOT NULL DEFAULT 'it''s'\n);"));
    }
}
