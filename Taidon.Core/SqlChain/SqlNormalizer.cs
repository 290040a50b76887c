namespace Taidon.Core.SqlChain;

/// <summary>
/// The normalized form of SQL: what PostgreSQL would see, without comments, insignificant whitespace
/// or letter case of unquoted words. Two statements that PostgreSQL treats the same way normalize the
/// same; anything PostgreSQL could see (a string's content, a quoted name, a dollar-quoted body) is kept.
/// </summary>
public static class SqlNormalizer
{
    /// <summary>The normalized form of each statement of <paramref name="sql"/>, joined by ";\n".</summary>
    public static string Normalize(string sql) =>
        string.Join(";\n", SqlSplitter.Split(sql).Statements.Select(s => s.Normalized));
}
