#!/usr/bin/env bash
# Builds a release build (LTO) in build-bench/ (or $KLEFR_BENCH_BUILD) and runs
# klefr-bench: simulated seconds per wall second of the full twin against a
# bare loop of the same per-sample arithmetic. Options go to klefr-bench.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KLEFR_BENCH_BUILD:-$root/build-bench}
# Release with link-time optimisation: the ticks and the slice's calls across
# modules inline (about 7 % on the full twin, docs/performance.md).
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$root" --buildtype=release -Db_lto=true >/dev/null
else
  meson configure "$build" -Db_lto=true >/dev/null # a build-bench/ from before
fi
ninja -C "$build" src/klefr-bench >/dev/null
exec "$build/src/klefr-bench" "$@"
