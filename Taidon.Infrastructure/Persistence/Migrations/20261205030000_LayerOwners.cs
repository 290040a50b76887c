using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Taidon.Infrastructure.Persistence.Migrations
{
    /// <summary>Layers taken inside a student's own script belong to that student's share of the cache.</summary>
    [DbContext(typeof(ControlPlaneDbContext))]
    [Migration("20261205030000_LayerOwners")]
    public partial class LayerOwners : Migration
    {
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "OwnerId",
                table: "snapshot_layers",
                type: "text",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_snapshot_layers_OwnerId",
                table: "snapshot_layers",
                column: "OwnerId");
        }

        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(name: "IX_snapshot_layers_OwnerId", table: "snapshot_layers");
            migrationBuilder.DropColumn(name: "OwnerId", table: "snapshot_layers");
        }
    }
}
