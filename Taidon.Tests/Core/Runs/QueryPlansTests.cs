using Taidon.Core.Runs;
using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.Runs;

public sealed class QueryPlansTests
{
    [Theory]
    [InlineData("SELECT 1;", true)]
    [InlineData("with t as (select 1) select * from t;", true)]
    [InlineData("(SELECT 1) UNION (SELECT 2);", true)]
    [InlineData("VALUES (1);", true)]
    [InlineData("CREATE INDEX i ON t (x);", false)]
    [InlineData("SET work_mem = '64MB';", false)]
    [InlineData("BEGIN;", false)]
    public void OnlyQueriesAreTimed(string sql, bool explainable)
    {
        var statement = ChainAnalysis.Analyze([new SqlSource("bench/01.sql", sql)], EngineIdentity.PostgreSql(15)).Statements.Single();

        Assert.Equal(explainable, QueryPlans.IsExplainable(statement));
    }

    [Fact]
    public void TheMedianIsTheMiddleValueOrTheMeanOfTheTwoMiddleOnes()
    {
        Assert.Equal(3, QueryPlans.Median([5, 1, 3]));
        Assert.Equal(2.5, QueryPlans.Median([4, 1, 3, 2]));
        Assert.Throws<ArgumentException>(() => QueryPlans.Median([]));
    }

    [Fact]
    public void AnExplainAnalyzePlanReadsAsATreeWithTimesRowsAndConditions()
    {
        const string json = """
            [{"Plan": {"Node Type": "Sort", "Actual Total Time": 0.9, "Actual Rows": 12, "Plan Rows": 11, "Actual Loops": 1,
                       "Sort Key": ["o.ordered_at DESC"],
                       "Plans": [{"Node Type": "Nested Loop", "Join Type": "Inner", "Actual Total Time": 0.7, "Actual Rows": 12, "Plan Rows": 900, "Actual Loops": 1,
                                  "Plans": [{"Node Type": "Index Scan", "Relation Name": "orders", "Alias": "o", "Index Name": "orders_customer_idx",
                                             "Index Cond": "(customer_id = 42)", "Actual Total Time": 0.1, "Actual Rows": 12, "Plan Rows": 10, "Actual Loops": 1},
                                            {"Node Type": "Seq Scan", "Relation Name": "order_items", "Alias": "order_items", "Filter": "(qty > 0)",
                                             "Actual Total Time": 0.05, "Actual Rows": 3, "Plan Rows": 3, "Actual Loops": 12}]}]},
              "Planning Time": 0.31, "Execution Time": 1.25}]
            """;

        var (plan, execution, planning) = QueryPlans.Parse(json);

        Assert.Equal(1.25, execution);
        Assert.Equal(0.31, planning);
        Assert.Equal("Sort", plan.NodeType);
        Assert.Equal("sort key: o.ordered_at DESC", plan.Detail);
        var join = Assert.Single(plan.Children);
        Assert.Equal("Nested Loop (Inner)", join.NodeType);
        Assert.Equal(900, join.PlanRows);
        Assert.Equal("orders o using orders_customer_idx", join.Children[0].On);
        Assert.Equal("(customer_id = 42)", join.Children[0].Detail);
        Assert.Equal("order_items", join.Children[1].On);
        Assert.Equal(12, join.Children[1].Loops);
    }
}
