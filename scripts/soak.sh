#!/usr/bin/env bash
# Soak: tests/test_soak.c for DAYS simulated days (default 3650, ten years;
# CI runs 3): a 6922 under a repeating daily profile with import, export and
# two power cuts a day, its registers checked every day against an
# independent integration of the load, its pulses, its display ranges.
# Prints a line per simulated year for docs/reliability.md.
#   scripts/soak.sh [DAYS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
build=${KLEFR_BUILD:-$root/build}
KLEFR_SOAK_DAYS=${1:-3650} CK_FORK=no exec "$build/tests/test-soak"
