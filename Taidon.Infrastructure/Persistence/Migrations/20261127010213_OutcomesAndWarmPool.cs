using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Taidon.Infrastructure.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class OutcomesAndWarmPool : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "OwnerId",
                table: "instances",
                type: "text",
                nullable: true,
                oldClrType: typeof(string),
                oldType: "text");

            migrationBuilder.CreateTable(
                name: "statement_outcomes",
                columns: table => new
                {
                    AfterKey = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CommandTag = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    RowsAffected = table.Column<long>(type: "bigint", nullable: true),
                    DurationMicroseconds = table.Column<long>(type: "bigint", nullable: true),
                    Notices = table.Column<string>(type: "jsonb", nullable: false),
                    RecordedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_statement_outcomes", x => x.AfterKey);
                });

            migrationBuilder.CreateIndex(
                name: "IX_statement_outcomes_RecordedAt",
                table: "statement_outcomes",
                column: "RecordedAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "statement_outcomes");

            migrationBuilder.AlterColumn<string>(
                name: "OwnerId",
                table: "instances",
                type: "text",
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "text",
                oldNullable: true);
        }
    }
}
