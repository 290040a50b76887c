using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Taidon.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// The runs in progress of every replica (<c>ControlPlaneActiveRuns</c>): written and read with SQL, not
    /// through the model, as they change every second.
    /// </summary>
    [DbContext(typeof(ControlPlaneDbContext))]
    [Migration("20261205100000_RunsInProgress")]
    public partial class RunsInProgress : Migration
    {
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                CREATE TABLE runs_in_progress (
                    id uuid PRIMARY KEY,
                    owner_id text NOT NULL,
                    replica text NOT NULL,
                    started_at timestamptz NOT NULL,
                    current integer NOT NULL,
                    total integer NOT NULL,
                    phase text NULL,
                    subject text NULL,
                    stop_requested boolean NOT NULL,
                    seen_at timestamptz NOT NULL);
                CREATE INDEX ix_runs_in_progress_owner ON runs_in_progress (owner_id);
                """);
        }

        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE runs_in_progress;");
        }
    }
}
