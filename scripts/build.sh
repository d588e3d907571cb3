#!/usr/bin/env bash
# Configures (once) and builds into build/ (or $KLEFR_BUILD). Quiet when up to date.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KLEFR_BUILD:-$root/build}
args=()
[ "${CI:-}" = "true" ] && args+=(-Dwerror=true)
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$root" "${args[@]}" >/dev/null
fi
ninja -C "$build" >/dev/null
