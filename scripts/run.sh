#!/usr/bin/env bash
# Starts the simulator: a window when a display exists, else headless
# (klefr-sim decides that itself). Any klefr-sim option may follow
# (see: scripts/run.sh --help).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" >&2
"$root/scripts/build.sh" >&2
build=${KLEFR_BUILD:-$root/build}
exec "$build/src/klefr-sim" "$@"
