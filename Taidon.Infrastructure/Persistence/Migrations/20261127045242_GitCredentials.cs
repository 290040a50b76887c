using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Taidon.Infrastructure.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class GitCredentials : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "git_credentials",
                columns: table => new
                {
                    AccountId = table.Column<string>(type: "text", nullable: false),
                    Host = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Username = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    ProtectedToken = table.Column<string>(type: "text", nullable: false),
                    SavedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_git_credentials", x => new { x.AccountId, x.Host });
                    table.ForeignKey(
                        name: "FK_git_credentials_AspNetUsers_AccountId",
                        column: x => x.AccountId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "git_credentials");
        }
    }
}
