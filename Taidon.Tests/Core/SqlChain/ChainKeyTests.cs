using System.Security.Cryptography;
using System.Text;
using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.SqlChain;

public sealed class ChainKeyTests
{
    private static readonly EngineIdentity Engine = EngineIdentity.PostgreSql(15);

    [Fact]
    public void EachKeyIsTheSha256OfThePreviousKeyAndTheNormalizedStatement()
    {
        var statements = SqlSplitter.Split("CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);").Statements;

        var keys = ChainKeys.Compute(Engine, statements);

        Assert.Equal(3, keys.Count);
        var expected = SHA256.HashData([.. keys[0].ToArray(), .. Encoding.UTF8.GetBytes("create table t(id int)")]);
        Assert.Equal(Convert.ToHexStringLower(expected), keys[1].ToString());
        Assert.Matches("^[0-9a-f]{64}$", keys[2].ToString());
        Assert.Equal(keys[2].ToString()[..12], keys[2].Short);
    }

    [Fact]
    public void KeyingAChainAgainWithMoreNoOpsEqualsAnalyzingItAfresh()
    {
        var sources = new[] { new SqlSource("s.sql", "CREATE TABLE t (id int);\nSELECT 1;\nINSERT INTO t VALUES (1);\nSELECT 2;") };
        var first = ChainAnalysis.Analyze(sources, Engine);
        var known = new HashSet<(ChainKey, ChainKey)> { (first.Keys[1], first.Keys[2]) };
        bool IsNoOp(ChainKey before, ChainKey after) => known.Contains((before, after));

        var rekeyed = ChainAnalysis.Rekey(first, Engine, IsNoOp);

        Assert.Same(first.Statements, rekeyed.Statements);
        Assert.Equal(ChainAnalysis.Analyze(sources, Engine, IsNoOp).Keys, rekeyed.Keys);
        Assert.Equal(rekeyed.Keys[1], rekeyed.Keys[2]);
    }

    [Fact]
    public void ReformattingAScriptKeepsEveryKey()
    {
        var original = SqlSplitter.Split("create table t (id int);\ninsert into t values (1);").Statements;
        var reformatted = SqlSplitter.Split("-- schema\nCREATE TABLE T (\n    ID INT\n);\n\nINSERT INTO T\nVALUES (1); -- one row").Statements;

        Assert.Equal(ChainKeys.Compute(Engine, original), ChainKeys.Compute(Engine, reformatted));
    }

    [Fact]
    public void AChangeInOneStatementChangesItsKeyAndEveryKeyAfterIt()
    {
        var before = ChainKeys.Compute(Engine, SqlSplitter.Split("CREATE TABLE a (x int); CREATE TABLE b (y int); INSERT INTO b VALUES (1);").Statements);
        var after = ChainKeys.Compute(Engine, SqlSplitter.Split("CREATE TABLE a (x int); CREATE TABLE b (y bigint); INSERT INTO b VALUES (1);").Statements);

        Assert.Equal(before[1], after[1]);
        Assert.NotEqual(before[2], after[2]);
        Assert.NotEqual(before[3], after[3]);
    }

    [Fact]
    public void TheEngineNamesTheRoot()
    {
        Assert.Equal(EngineIdentity.PostgreSql(15).Root, EngineIdentity.PostgreSql(15).Root);
        Assert.NotEqual(EngineIdentity.PostgreSql(15).Root, EngineIdentity.PostgreSql(16).Root);
        var otherZone = new Dictionary<string, string>(EngineIdentity.DefaultSettings) { ["TimeZone"] = "Europe/Berlin" };
        Assert.NotEqual(EngineIdentity.PostgreSql(15).Root, new EngineIdentity(15, otherZone).Root);
    }

    [Fact]
    public void AStatementThatChangedNothingKeepsTheKeySoReadingNeverInvalidatesTheCache()
    {
        var statements = SqlSplitter.Split("CREATE TABLE t (id int); SELECT * FROM t; INSERT INTO t VALUES (1);").Statements;
        var unknown = ChainKeys.Compute(Engine, statements);
        var readOnly = new HashSet<(ChainKey, ChainKey)> { (unknown[1], unknown[2]) };

        var keys = ChainKeys.Compute(Engine, statements, (before, after) => readOnly.Contains((before, after)));

        Assert.Equal(keys[1], keys[2]);
        Assert.Equal(ChainKeys.Compute(Engine, SqlSplitter.Split("CREATE TABLE t (id int); INSERT INTO t VALUES (1);").Statements)[2], keys[3]);
    }

    [Fact]
    public void ASettingAlwaysAdvancesTheKeyBecauseLaterStatementsDependOnIt()
    {
        var statements = SqlSplitter.Split("SET search_path = s; CREATE TABLE t (id int);").Statements;

        var keys = ChainKeys.Compute(Engine, statements, (_, _) => true);

        Assert.NotEqual(keys[0], keys[1]);
    }

    [Fact]
    public void CopyDataIsPartOfTheKey()
    {
        var one = ChainKeys.Compute(Engine, SqlSplitter.Split("COPY t FROM stdin;\n1\n\\.\n").Statements);
        var two = ChainKeys.Compute(Engine, SqlSplitter.Split("COPY t FROM stdin;\n2\n\\.\n").Statements);

        Assert.NotEqual(one[1], two[1]);
    }

    [Fact]
    public void KeysParseFromTheirHexForm()
    {
        var key = EngineIdentity.PostgreSql(15).Root;

        Assert.Equal(key, ChainKey.Parse(key.ToString()));
        Assert.False(ChainKey.TryParse("ABC", out _));
        Assert.Throws<FormatException>(() => ChainKey.Parse(new string('g', 64)));
    }
}
