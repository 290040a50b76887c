using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Taidon.Infrastructure.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AuditAndPlans : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "account_plans",
                columns: table => new
                {
                    AccountId = table.Column<string>(type: "text", nullable: false),
                    PlanName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Override = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_account_plans", x => x.AccountId);
                    table.ForeignKey(
                        name: "FK_account_plans_AspNetUsers_AccountId",
                        column: x => x.AccountId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "audit_events",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ActorId = table.Column<string>(type: "text", nullable: true),
                    Action = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Target = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    Outcome = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Detail = table.Column<string>(type: "text", nullable: true),
                    ClientAddress = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_events", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "plans",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Limits = table.Column<string>(type: "jsonb", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_plans", x => x.Name);
                });

            migrationBuilder.CreateIndex(
                name: "IX_account_plans_PlanName",
                table: "account_plans",
                column: "PlanName");

            migrationBuilder.CreateIndex(
                name: "IX_audit_events_Action_At_Id",
                table: "audit_events",
                columns: new[] { "Action", "At", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_events_ActorId_At_Id",
                table: "audit_events",
                columns: new[] { "ActorId", "At", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_events_At_Id",
                table: "audit_events",
                columns: new[] { "At", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_events_Target_At_Id",
                table: "audit_events",
                columns: new[] { "Target", "At", "Id" });

            // The audit log is append-only: no row is ever changed (retention deletes whole old batches).
            migrationBuilder.Sql("""
                CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'audit_events is append-only: its rows are never updated';
                END $$;
                CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
                    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events; DROP FUNCTION IF EXISTS audit_events_append_only();");
            migrationBuilder.DropTable(
                name: "account_plans");

            migrationBuilder.DropTable(
                name: "audit_events");

            migrationBuilder.DropTable(
                name: "plans");
        }
    }
}
