#!/usr/bin/env bash
# Installations of many meters (docs/performance.md, "Fleets"), in one run:
#   1. klefr-bench --fleet: for 1, 10, 100, 1000 and 10,000 meters (each its
#      own waveform at 4000 Hz), the start time, the memory a meter takes and
#      the share of one CPU core to run them in real time; one M-bus line of
#      1000 meters quiet and polled back to back.
#   2. A libmbus secondary scan of 64 meters at 2400 baud through a pty
#      (tests/mbus_scan_timed.c, libmbus's own scan), timed against the time
#      a real line takes for the same exchanges.
#   scripts/bench-fleet.sh [SIM_SECONDS, default 20] [MAX_METERS, default 10000]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
max=${2:-10000}
"$root/scripts/deps.sh" --test >&2
"$root/scripts/build.sh" >&2
build=${KLEFR_BUILD:-$root/build}
"$root/scripts/bench.sh" --fleet "$max" --seconds "$secs" # the release build (LTO) in build-bench/

scan=$build/tests/mbus_scan_timed
[ -x "$scan" ] || { echo "bench-fleet: $scan missing (libmbus sources: scripts/deps.sh --test)" >&2; exit 1; }
dir=$(mktemp -d)
pid=
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$dir"; }
trap cleanup EXIT
# 64 meters as delivered: primary address 0, serial numbers of one batch.
cat >"$dir/scan64.json" <<'EOF'
{"name": "scan64", "lines": [{"bus": "mbus", "baud": 2400}],
 "meters": [{"id": "m", "count": 64, "model": 6923, "serial": "21050101"}]}
EOF
"$build/src/klefr-sim" --fleet "$dir/scan64.json" --headless --ephemeral --speed 1 \
  --mbus-port "$dir/mbus" --duration 1000 >/dev/null 2>"$dir/sim.err" &
pid=$!
for _ in $(seq 100); do [ -e "$dir/mbus" ] && break; sleep 0.05; done
echo "libmbus secondary scan of 64 meters at 2400 baud (one delivery: 21050101..21050164):"
"$scan" "$dir/mbus"
