using Taidon.Infrastructure;
using Taidon.Infrastructure.Persistence;
using Taidon.Web;

var builder = WebApplication.CreateBuilder(args);

builder.AddTaidonLogging();
var controlPlane = await builder.AddControlPlaneAsync();
try
{
    builder.Services.AddTaidonInfrastructure(builder.Configuration);
    builder.AddTaidonWeb();

    var app = builder.Build();

    app.UseTaidonPipeline();
    app.MapTaidonEndpoints();

    await app.RunAsync();
}
finally
{
    // Also when a bad setting stops the start (read while services are added, or when the host starts):
    // the embedded PostgreSQL is not left behind.
    await controlPlane.StopEmbeddedAsync();
}

/// <summary>The web host's entry point; public so tests can start it with WebApplicationFactory.</summary>
public partial class Program;
