using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Taidon.Infrastructure.LocalRuntime;

namespace Taidon.Infrastructure.Persistence;

public static class ControlPlaneBootstrap
{
    /// <summary>
    /// Makes the control-plane database known before the host is built (EF Core, Identity, Data
    /// Protection and Hangfire all need it): the configured connection string, or else the embedded
    /// PostgreSQL, created or reused in the data directory and started now.
    /// </summary>
    public static async Task<ControlPlaneConnection> AddControlPlaneAsync(this IHostApplicationBuilder builder, CancellationToken cancellationToken = default)
    {
        var configured = builder.Configuration.GetConnectionString(ControlPlaneConnection.ConnectionStringName);
        ControlPlaneConnection connection;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            connection = new ControlPlaneConnection(configured, null);
        }
        else
        {
            var taidon = builder.Configuration.GetSection(TaidonOptions.SectionName).Get<TaidonOptions>() ?? new TaidonOptions();
            var postgres = builder.Configuration.GetSection(PostgresOptions.SectionName).Get<PostgresOptions>() ?? new PostgresOptions();
            // Not disposed: the cluster keeps this logger for its shutdown messages.
            var loggers = LoggerFactory.Create(logging =>
            {
                logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
                if (taidon.LogFormat == "json")
                {
                    logging.AddJsonConsole();
                }
                else
                {
                    logging.AddSimpleConsole(o => o.SingleLine = true);
                }
            });
            var logger = loggers.CreateLogger("Taidon.ControlPlane");
            var dataDirectory = taidon.ResolveDataDirectory();
            logger.LogInformation("No ConnectionStrings:ControlPlane is set; starting the embedded PostgreSQL in {DataDirectory}", dataDirectory);
            var embedded = await EmbeddedControlPlane.StartAsync(dataDirectory, postgres, logger, cancellationToken);
            connection = new ControlPlaneConnection(embedded.ConnectionString, embedded);
        }

        builder.Services.AddSingleton(connection);
        return connection;
    }
}
