# Sourced by the scripts: install_missing WHO PACKAGE... installs the Debian packages named when
# running as root (unless TAIDON_NO_INSTALL is set); otherwise it says what to install and exits.
install_missing() {
  local who="$1"
  shift
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ] && [ -z "${TAIDON_NO_INSTALL:-}" ]; then
    echo "Installing $* (Debian packages) for $who..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "$who needs these Debian packages: $*. Install them (sudo apt-get install $*) and run again." >&2
    exit 1
  fi
}
