using Taidon.Infrastructure;
using Taidon.Infrastructure.Persistence;
using Taidon.Web;

var builder = WebApplication.CreateBuilder(args);

builder.AddTaidonLogging();
var controlPlane = await builder.AddControlPlaneAsync();
builder.Services.AddTaidonInfrastructure(builder.Configuration);
builder.AddTaidonWeb();

var app = builder.Build();

app.UseTaidonPipeline();
app.MapTaidonEndpoints();

try
{
    await app.RunAsync();
}
finally
{
    // Also when the host fails to start (a bad setting): the embedded PostgreSQL is not left behind.
    await controlPlane.StopEmbeddedAsync();
}

/// <summary>The web host's entry point; public so tests can start it with WebApplicationFactory.</summary>
public partial class Program;
