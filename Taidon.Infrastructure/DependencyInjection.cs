using Hangfire;
using k8s;
using Hangfire.PostgreSql;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Taidon.Core.Accounts;
using Taidon.Core.Audit;
using Taidon.Core.Git;
using Taidon.Core.Common;
using Taidon.Core.Instances;
using Taidon.Core.Projects;
using Taidon.Core.Quotas;
using Taidon.Core.Runs;
using Taidon.Core.Snapshots;
using Taidon.Infrastructure.Audit;
using Taidon.Infrastructure.Git;
using Taidon.Infrastructure.Identity;
using Taidon.Infrastructure.Jobs;
using Taidon.Infrastructure.KubernetesRuntime;
using Taidon.Infrastructure.LocalRuntime;
using Taidon.Infrastructure.LocalRuntime.Snapshots;
using Taidon.Infrastructure.Persistence;
using Taidon.Infrastructure.Projects;
using Taidon.Infrastructure.Quotas;
using Taidon.Infrastructure.Runs;
using Taidon.Infrastructure.Sql;
using Taidon.Infrastructure.Persistence.Stores;
using Taidon.Core.SqlChain;

namespace Taidon.Infrastructure;

public static class DependencyInjection
{
    /// <summary>
    /// The adapters: control-plane database, Identity stores, Data Protection keys, Hangfire.
    /// Call <see cref="ControlPlaneBootstrap.AddControlPlaneAsync"/> first.
    /// </summary>
    public static IServiceCollection AddTaidonInfrastructure(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TaidonOptions>().BindConfiguration(TaidonOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PostgresOptions>().BindConfiguration(PostgresOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AccountOptions>().BindConfiguration(AccountOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<OidcOptions>().BindConfiguration(OidcOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<JobOptions>().BindConfiguration(JobOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EngineOptions>().BindConfiguration(EngineOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<EngineIdentityProvider>();
        services.AddSingleton<IEngineIdentitySource>(sp => sp.GetRequiredService<EngineIdentityProvider>());

        services.TryAddTimeProvider();
        services.AddSingleton<TaidonTelemetry>();

        // First hosted service: migrations, Hangfire's schema and seeding before the jobs start; it stops last.
        services.AddHostedService<ControlPlaneStartup>();
        // Second: the key ring is checked before Data Protection's own start-up, which makes a new key when it cannot read the current one.
        services.AddHostedService<KeyRingCheck>();
        services.AddSingleton<ControlPlaneCommandCounter>();
        services.AddDbContextFactory<ControlPlaneDbContext>((sp, options) =>
            options.UseNpgsql(sp.GetRequiredService<ControlPlaneConnection>().ConnectionString).AddInterceptors(sp.GetRequiredService<ControlPlaneCommandCounter>()));

        services.AddIdentityCore<TaidonUser>(options =>
            {
                options.SignIn.RequireConfirmedAccount = configuration.GetValue<bool>($"{AccountOptions.SectionName}:{nameof(AccountOptions.RequireConfirmedEmail)}");
                options.User.RequireUniqueEmail = false; // see RegisteredEmailValidator
                options.Lockout.AllowedForNewUsers = true;
                options.Password.RequiredLength = 8;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<ControlPlaneDbContext>()
            .AddSignInManager()
            .AddClaimsPrincipalFactory<TaidonClaimsPrincipalFactory>()
            .AddUserValidator<RegisteredEmailValidator>()
            .AddErrorDescriber<TaidonIdentityErrorDescriber>()
            .AddDefaultTokenProviders();
        services.AddOptions<IdentityOptions>().Configure<IOptions<AccountOptions>>((identity, accounts) =>
        {
            identity.Lockout.MaxFailedAccessAttempts = accounts.Value.MaxFailedAccessAttempts;
            identity.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(accounts.Value.LockoutMinutes);
        });

        services.AddSingleton<RoleIds>();
        services.AddSingleton<AccountPrincipals>();
        services.AddScoped<AnonymousAccounts>();
        services.AddScoped<IGuestAccounts>(sp => sp.GetRequiredService<AnonymousAccounts>());
        services.AddScoped<AccountSeeder>();
        services.AddScoped<IAccountAdministration, AccountAdministration>();
        services.AddSingleton<IAccountActivity, AccountActivity>();
        services.AddSingleton<IAccessTokenService, AccessTokenService>();
        services.AddSingleton<IAccountDirectory, AccountDirectory>();

        // Several replicas share one key ring, so a cookie made by one is read by the others. A certificate
        // from the settings encrypts it, so that the database alone does not give the keys away.
        services.AddDataProtection().SetApplicationName("Taidon").PersistKeysToDbContext<ControlPlaneDbContext>().ProtectKeyRing(configuration);

        services.AddHangfire((sp, hangfire) => hangfire
            .UseLogProvider(new HangfireLogProvider(sp.GetRequiredService<ILoggerFactory>()))
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(
                storage => storage.UseNpgsqlConnection(sp.GetRequiredService<ControlPlaneConnection>().ConnectionString),
                HangfireSchema.StorageOptions()));
        var jobs = configuration.GetSection(JobOptions.SectionName).Get<JobOptions>() ?? new JobOptions();
        if (jobs.RunServer)
        {
            services.AddHangfireServer(server => server.WorkerCount = jobs.WorkerCount);
        }

        services.AddHostedService<RecurringJobs>();
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<AuditLog>());
        services.AddSingleton<IAuditTrail>(sp => sp.GetRequiredService<AuditLog>());
        services.AddSingleton<AuditRetention>();
        services.AddSingleton<QuotaService>();

        services.AddOptions<InstanceOptions>().BindConfiguration(InstanceOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<InstanceOptions>>().Value);
        services.AddOptions<RuntimeOptions>().BindConfiguration(RuntimeOptions.SectionName);
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new DiskReserve(sp.GetRequiredService<IDiskSpace>(), sp.GetRequiredService<IOptions<StorageOptions>>().Value.ReserveMegabytes * 1024L * 1024));
        var runtimeKind = configuration.GetSection(RuntimeOptions.SectionName).Get<RuntimeOptions>()?.Kind ?? RuntimeKind.Embedded;
        if (runtimeKind == RuntimeKind.Kubernetes)
        {
            services.AddKubernetesRuntime();
        }
        else
        {
            services.AddEmbeddedRuntime();
        }

        // Made on first use: the embedded runtime looks for the PostgreSQL programs then.
        services.AddSingleton<IInstanceRuntime>(sp => sp.GetRequiredService<Lazy<IInstanceRuntime>>().Value);
        services.AddSingleton<ISqlSessionFactory, NpgsqlSqlSessionFactory>();
        services.AddSingleton<ISchemaReader, NpgsqlSchemaReader>();
        services.AddSingleton<ILayerBuildGate, AdvisoryLayerBuildGate>();
        services.AddSingleton<IStatementOutcomeStore, StatementOutcomeStore>();
        services.AddSingleton<IInstanceStore, InstanceStore>();
        services.AddSingleton<IRunJournal, RunJournal>();
        services.AddSingleton<ILayerLedger, LayerLedger>();
        services.AddSingleton<ISettingStore, SettingStore>();
        services.AddSingleton<IQuotaStore, QuotaStore>();
        services.AddSingleton<IProjectCatalog, ProjectCatalog>();
        services.AddSingleton<IQueryTimer, NpgsqlQueryTimer>();
        services.AddOptions<AdmissionOptions>().BindConfiguration(AdmissionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<AdmissionOptions>>().Value);
        services.AddSingleton<IRunAdmission>(sp =>
        {
            var admission = new ProcessRunAdmission(sp.GetRequiredService<AdmissionOptions>(), sp.GetRequiredService<TimeProvider>());
            sp.GetRequiredService<TaidonTelemetry>().RunLoad = () => admission.Load;
            return admission;
        });
        services.AddHealthChecks()
            .AddDbContextCheck<ControlPlaneDbContext>("control-plane", tags: ["ready"])
            .AddCheck<MigrationsHealthCheck>("migrations", tags: ["ready"]);
        services.AddSingleton<RunExecutor>();
        services.AddSingleton<ScriptEdits>();
        if (runtimeKind == RuntimeKind.Kubernetes)
        {
            // Replicas share the instances: one operation at a time on each, whichever replica asks, and a
            // run started on one replica is followed and stopped from any.
            services.AddSingleton<IInstanceGate, AdvisoryInstanceGate>();
            services.AddSingleton<ControlPlaneActiveRuns>();
            services.AddSingleton<IActiveRuns>(sp => sp.GetRequiredService<ControlPlaneActiveRuns>());
            services.AddHostedService(sp => sp.GetRequiredService<ControlPlaneActiveRuns>());
        }
        else
        {
            services.AddSingleton<IInstanceGate, ProcessInstanceGate>();
            services.AddSingleton<IActiveRuns>(sp => new ProcessActiveRuns(sp.GetRequiredService<TimeProvider>()));
        }

        services.AddSingleton<IRateCounter, ProcessRateCounter>();
        services.AddSingleton<RunService>();
        services.AddSingleton<BenchmarkService>();
        services.AddSingleton<InstanceAdministration>();
        services.AddSingleton<IInstanceActivity>(sp => sp.GetRequiredService<InstanceAdministration>());
        services.AddSingleton<IMachineLoad, ProcMachineLoad>();
        services.AddSingleton<IHeadroom, HeadroomReport>();
        services.AddSingleton<SnapshotCacheAdministration>();
        // Memory is watched where the instances run on this machine (a cluster's nodes are the scheduler's).
        services.AddSingleton(sp => new InstanceLifecycle(
            sp.GetRequiredService<IInstanceStore>(), sp.GetRequiredService<IInstanceRuntime>(), sp.GetRequiredService<QuotaService>(), sp.GetRequiredService<InstanceOptions>(),
            sp.GetRequiredService<IAuditLog>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<InstanceLifecycle>>(),
            runtimeKind == RuntimeKind.Kubernetes ? null : sp.GetRequiredService<IMachineLoad>()));
        services.AddOptions<SnapshotOptions>().BindConfiguration(SnapshotOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SnapshotOptions>>().Value);
        services.AddSingleton<LayerGarbageCollector>();
        services.AddSingleton<InstanceReconciliation>();
        services.AddHostedService<InstanceReconciliationAtStart>();
        services.AddOptions<ProjectOptions>().BindConfiguration(ProjectOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ProjectOptions>>().Value);
        services.AddSingleton<IProjectStore>(sp => new FileProjectStore(
            Path.Combine(sp.GetRequiredService<IOptions<TaidonOptions>>().Value.ResolveDataDirectory(), "projects"),
            sp.GetRequiredService<IOptions<ProjectOptions>>().Value.ToLimits(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ProjectService>();
        services.AddSingleton(sp => (FileProjectStore)sp.GetRequiredService<IProjectStore>());
        services.AddOptions<GitOptions>().BindConfiguration(GitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new GitAddressGuard(new GitAllowedHosts(sp.GetRequiredService<IOptions<GitOptions>>().Value.AllowedHosts)));
        services.AddSingleton<GitService>();
        services.AddSingleton<IProjectGit>(sp => sp.GetRequiredService<GitService>());
        services.AddSingleton<WarmPool>();
        services.AddSingleton<LessonWarmup>();
        services.AddHostedService<WarmPoolRefill>();
        return services;
    }

    /// <summary>The embedded runtime: instances and snapshot layers under the data directory, made on first use; Git tokens in the control plane.</summary>
    private static void AddEmbeddedRuntime(this IServiceCollection services)
    {
        services.AddSingleton<IDiskSpace>(sp => new MachineDiskSpace(
            sp.GetRequiredService<IOptions<TaidonOptions>>().Value.ResolveDataDirectory(), sp.GetRequiredService<Lazy<InstanceStorage>>()));
        services.AddSingleton(sp => new Lazy<InstanceStorage>(() => InstanceStorage.Prepare(
            sp.GetRequiredService<IOptions<TaidonOptions>>().Value.ResolveDataDirectory(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value,
            sp.GetRequiredService<ILogger<InstanceStorage>>())));
        services.AddSingleton(sp => new Lazy<LocalInstanceRuntime>(() =>
        {
            var storage = sp.GetRequiredService<Lazy<InstanceStorage>>().Value;
            var postgres = sp.GetRequiredService<IOptions<PostgresOptions>>().Value;
            var clock = sp.GetRequiredService<TimeProvider>();
            var loggers = sp.GetRequiredService<ILoggerFactory>();
            var layers = LayerStore.Open(storage.Snapshots, clock, loggers.CreateLogger<LayerStore>());
            var runtime = new LocalInstanceRuntime(storage.Instances, PostgresBinaries.Locate(postgres.BinDirectory), OsUser.ForPostgres(postgres.OsUser),
                layers, sp.GetRequiredService<EngineIdentityProvider>().Identity, loggers.CreateLogger<LocalInstanceRuntime>(),
                InstanceCgroups.Detect(loggers.CreateLogger<InstanceCgroups>()), sp.GetRequiredService<InstanceOptions>().StandbyServers);
            var telemetry = sp.GetRequiredService<TaidonTelemetry>();
            telemetry.ActiveInstances = () => runtime.CountRunning();
            telemetry.CacheBytes = layers.TotalBytes;
            return runtime;
        }));
        services.AddSingleton(sp => new Lazy<IInstanceRuntime>(() => sp.GetRequiredService<Lazy<LocalInstanceRuntime>>().Value));
        services.AddSingleton<IStorageGuard>(sp => new InstanceStorageGuard(sp.GetRequiredService<Lazy<LocalInstanceRuntime>>().Value, sp.GetRequiredService<ILogger<InstanceStorageGuard>>()));
        services.AddHostedService<InstanceShutdown>();
        services.AddSingleton<IGitCredentialStore, ProtectedGitCredentialStore>();
    }

    /// <summary>
    /// The Kubernetes runtime: pods, volumes and layers (VolumeSnapshots, or archives on <c>LayersClaim</c>, as
    /// <c>Taidon:Kubernetes:Layers</c> says) in <c>Taidon:Kubernetes:Namespace</c>, through the service account's
    /// token (or a kubeconfig); Git tokens as Secrets there. The start stops when the cluster lacks what the layers need.
    /// </summary>
    private static void AddKubernetesRuntime(this IServiceCollection services)
    {
        // Instances live in volumes the quota bounds; the app's own disk holds the projects.
        services.AddSingleton<IDiskSpace>(sp => new MachineDiskSpace(sp.GetRequiredService<IOptions<TaidonOptions>>().Value.ResolveDataDirectory(), storage: null));
        services.AddOptions<KubernetesOptions>().BindConfiguration(KubernetesOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<KubernetesOptions>>().Value);
        services.AddSingleton<IKubernetes>(sp =>
        {
            var options = sp.GetRequiredService<KubernetesOptions>();
            return new Kubernetes(string.IsNullOrEmpty(options.Kubeconfig)
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig));
        });
        services.AddSingleton<InstanceCluster>();
        services.AddHostedService<LayerSupportCheck>();
        services.AddHostedService<InstanceClusterWatches>();
        services.AddHealthChecks().AddCheck<InstanceClusterHealthCheck>("instances-cluster", tags: ["ready"]);
        services.AddSingleton<VolumeLayers>(sp =>
        {
            var cluster = sp.GetRequiredService<InstanceCluster>();
            return cluster.Options.LayerMode == LayerKind.Archives ? new ArchiveLayers(cluster) : new VolumeSnapshotLayers(cluster);
        });
        services.AddSingleton<KubernetesInstanceRuntime>(sp => new KubernetesInstanceRuntime(
            sp.GetRequiredService<InstanceCluster>(), sp.GetRequiredService<VolumeLayers>(),
            sp.GetRequiredService<EngineIdentityProvider>().Identity, sp.GetRequiredService<ILogger<KubernetesInstanceRuntime>>(),
            sp.GetRequiredService<TaidonTelemetry>()));
        services.AddSingleton(sp => new Lazy<IInstanceRuntime>(() =>
        {
            var runtime = sp.GetRequiredService<KubernetesInstanceRuntime>();
            var telemetry = sp.GetRequiredService<TaidonTelemetry>();
            telemetry.ActiveInstances = () => runtime.CountRunning();
            telemetry.CacheBytes = runtime.Layers.TotalBytes;
            return runtime;
        }));
        services.AddSingleton<IGitCredentialStore, KubernetesGitCredentialStore>();
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}
