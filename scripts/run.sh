#!/usr/bin/env bash
# Starts the simulator: a window when a display exists, else headless.
# Any klefr-sim option may follow (see: scripts/run.sh --help).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" >&2
"$root/scripts/build.sh" >&2
build=${KLEFR_BUILD:-$root/build}
args=("$@")
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [[ " ${args[*]-} " != *" --headless "* ]]; then
  args=(--headless "${args[@]}")
fi
exec "$build/src/klefr-sim" "${args[@]}"
