using Taidon.Core.Projects;
using Taidon.Core.SqlChain;

namespace Taidon.Tests.Core.Projects;

public sealed class SampleCourseTests
{
    [Fact]
    public void TheCourseShipsItsScriptsInChainOrderAndTheySplitCleanly()
    {
        Assert.Equal(
            ["init/01_schema.sql", "init/02_views.sql", "seed/01_customers.sql", "seed/02_products.sql", "seed/03_orders.sql",
             "test/01_explore.sql", "test/02_exercise_top_customers.sql", "test/03_exercise_monthly_revenue.sql", "test/04_exercise_restock.sql",
             "bench/01_orders_of_a_customer.sql"],
            SampleCourse.Files.Select(f => f.Path));

        var chain = ChainAnalysis.Analyze(SampleCourse.Files, EngineIdentity.PostgreSql(15));
        Assert.True(chain.IsValid, string.Join("; ", chain.Problems));
        Assert.Contains("generate_series(1, 50000)", SampleCourse.File("seed/03_orders.sql").Text, StringComparison.Ordinal);
    }
}
