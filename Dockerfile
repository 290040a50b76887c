# The Taidon app with the PostgreSQL 15 server programs it runs (the embedded runtime).
#   docker build -t taidon:dev .
#   docker run -p 8080:8080 -v taidon-data:/var/lib/taidon taidon:dev
# On minikube: minikube image build -t taidon:dev .   (see charts/taidon/README.md)
# No "# syntax" line: the builder's own Dockerfile frontend serves, and nothing is pulled for it.
#
# From an on-premises mirror: the base images and Debian's package mirror are build arguments, and NuGet
# takes its sources from nuget.config at the repository's root (edit it for a NuGet mirror):
#   docker build -t taidon:dev \
#     --build-arg DOTNET_SDK_IMAGE=mirror.school.internal/dotnet/sdk:10.0 \
#     --build-arg ASPNET_IMAGE=mirror.school.internal/dotnet/aspnet:10.0 \
#     --build-arg DEBIAN_IMAGE=mirror.school.internal/library/debian:bookworm-slim \
#     --build-arg DEBIAN_MIRROR=http://apt.school.internal .
ARG DOTNET_SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG ASPNET_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
ARG DEBIAN_IMAGE=debian:bookworm-slim

# Build: publish Taidon.Web (framework-dependent).
FROM ${DOTNET_SDK_IMAGE} AS build
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1
WORKDIR /src
# Restore first, from the project files only, so that the packages stay cached while sources change.
COPY global.json nuget.config Directory.Build.props Directory.Packages.props .editorconfig ./
COPY Taidon.Core/Taidon.Core.csproj Taidon.Core/
COPY Taidon.Infrastructure/Taidon.Infrastructure.csproj Taidon.Infrastructure/
COPY Taidon.Web/Taidon.Web.csproj Taidon.Web/
RUN dotnet restore Taidon.Web/Taidon.Web.csproj
COPY Taidon.Core/ Taidon.Core/
COPY Taidon.Infrastructure/ Taidon.Infrastructure/
COPY Taidon.Web/ Taidon.Web/
COPY wwwroot-assets/ wwwroot-assets/
RUN dotnet publish Taidon.Web -c Release -o /app --no-restore -p:UseAppHost=false

# The ASP.NET Core runtime. The .NET 10 images are Ubuntu-based (Microsoft publishes no Debian images
# for .NET 10), and Ubuntu 24.04 has no postgresql-15: the runtime is copied from this image onto
# Debian 12 below instead.
FROM ${ASPNET_IMAGE} AS aspnet

# Run: Debian 12 (bookworm) with postgresql-15 and the ASP.NET Core runtime.
FROM ${DEBIAN_IMAGE} AS runtime
ARG DEBIAN_FRONTEND=noninteractive
# A Debian mirror in place of deb.debian.org (its debian and debian-security), e.g. http://apt.school.internal
# (plain http, or a base image that trusts the mirror's certificate: the slim image has no CA certificates yet).
ARG DEBIAN_MIRROR=""
# What .NET needs on Debian 12 (as Microsoft's bookworm runtime-deps images install), then the
# PostgreSQL 15 server programs without a cluster: Taidon runs its own clusters in its data directory.
# No git: Taidon uses libgit2 (LibGit2Sharp). No btrfs-progs: layers are copied with
# `cp --reflink=auto` (add btrfs-progs for the btrfs driver on a btrfs volume mounted with
# user_subvol_rm_allowed).
RUN set -eux; \
    if [ -n "$DEBIAN_MIRROR" ]; then \
        sed -i "s|http://deb.debian.org|${DEBIAN_MIRROR%/}|g" /etc/apt/sources.list.d/debian.sources; \
    fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends \
        ca-certificates libc6 libgcc-s1 libicu72 libssl3 libstdc++6 tzdata zlib1g \
        postgresql-common; \
    sed -ri 's/^#?\s*create_main_cluster\s*=.*$/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf; \
    apt-get install -y --no-install-recommends postgresql-15; \
    rm -rf /var/lib/apt/lists/*; \
    test -x /usr/lib/postgresql/15/bin/initdb; \
    test ! -d /etc/postgresql/15/main
COPY --from=aspnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet && dotnet --list-runtimes

# The unprivileged account that runs the app and, because the app is not root, its PostgreSQL
# processes (initdb refuses root and needs the user in /etc/passwd). Its home is the data directory.
RUN set -eux; \
    groupadd --gid 10001 taidon; \
    useradd --uid 10001 --gid 10001 --home-dir /var/lib/taidon --no-create-home --shell /usr/sbin/nologin taidon; \
    install -d -o 10001 -g 10001 -m 0750 /var/lib/taidon

WORKDIR /app
COPY --from=build /app ./

# Taidon__Postgres__OsUser only matters when the container runs as root (then PostgreSQL runs as
# taidon); as user 10001 the app runs PostgreSQL itself.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_RUNNING_IN_CONTAINER=true \
    LANG=C.UTF-8 \
    HOME=/var/lib/taidon \
    Taidon__DataDirectory=/var/lib/taidon \
    Taidon__Postgres__BinDirectory=/usr/lib/postgresql/15/bin \
    Taidon__Postgres__OsUser=taidon

USER 10001:10001
VOLUME ["/var/lib/taidon"]
EXPOSE 8080
# /healthz without curl: bash's /dev/tcp. Kubernetes ignores this and uses the chart's probes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "Taidon.Web.dll"]
