#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then `meson test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
build=${KLEFR_BUILD:-$root/build}
meson test -C "$build" --print-errorlogs "$@"
