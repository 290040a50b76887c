using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Taidon.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// Statements seen to change nothing, and recorded outcomes, learned before the determinism rule may come
    /// from instances whose state had drifted from their key (or from a probe a student could fool): they are
    /// forgotten and learned again.
    /// </summary>
    [DbContext(typeof(ControlPlaneDbContext))]
    [Migration("20261204210000_ForgetUnprovenFacts")]
    public partial class ForgetUnprovenFacts : Migration
    {
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DELETE FROM no_op_statements;");
            migrationBuilder.Sql("DELETE FROM statement_outcomes;");
        }

        protected override void Down(MigrationBuilder migrationBuilder)
        {
        }
    }
}
