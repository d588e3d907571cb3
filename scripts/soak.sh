#!/usr/bin/env bash
# Soak: tests/test_soak.c for DAYS simulated days (default 3650, ten years;
# CI runs 3): a 6922 under a repeating daily profile with import, export and
# two power cuts a day, its registers checked every day against an
# independent integration of the load, its pulses, its display ranges.
# Built as a release with LTO in build-soak/ (or $KLEFR_SOAK_BUILD): ten
# years take about 90 minutes there, 5 hours in the debug build.
# Prints a line per simulated year for docs/reliability.md.
#   scripts/soak.sh [DAYS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" --test >&2
build=${KLEFR_SOAK_BUILD:-$root/build-soak}
[ -f "$build/build.ninja" ] || meson setup "$build" "$root" --buildtype=release -Db_lto=true >/dev/null
ninja -C "$build" tests/test-soak >/dev/null
KLEFR_SOAK_DAYS=${1:-3650} CK_FORK=no exec "$build/tests/test-soak"
