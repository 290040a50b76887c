using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Taidon.Infrastructure.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class InstancesAndLayers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "instances",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    OwnerId = table.Column<string>(type: "text", nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StateKey = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastActivityAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_instances", x => x.Id);
                    table.ForeignKey(
                        name: "FK_instances_AspNetUsers_OwnerId",
                        column: x => x.OwnerId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "no_op_statements",
                columns: table => new
                {
                    BeforeKey = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    AfterKey = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    SeenAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_no_op_statements", x => new { x.BeforeKey, x.AfterKey });
                });

            migrationBuilder.CreateTable(
                name: "snapshot_layers",
                columns: table => new
                {
                    Key = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ParentKey = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    SizeBytes = table.Column<long>(type: "bigint", nullable: false),
                    BuildCostMilliseconds = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastUsedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Hits = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_snapshot_layers", x => x.Key);
                });

            migrationBuilder.CreateIndex(
                name: "IX_instances_ExpiresAt",
                table: "instances",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_instances_OwnerId",
                table: "instances",
                column: "OwnerId");

            migrationBuilder.CreateIndex(
                name: "IX_snapshot_layers_LastUsedAt",
                table: "snapshot_layers",
                column: "LastUsedAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "instances");

            migrationBuilder.DropTable(
                name: "no_op_statements");

            migrationBuilder.DropTable(
                name: "snapshot_layers");
        }
    }
}
