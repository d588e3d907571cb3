#!/usr/bin/env bash
# Integration: klefr-sim's optical port (IEC 62056-21) on a pty, read by a
# third-party master (smartmeter-obis) and programmed by our own script.
#   iec_masters.sh PART KLEFR_SIM SRCDIR
# PART: readout | readout-timed | programming | baud-check | timing. Exit 77 (skip) only when the
# master PART needs is not installed (scripts/deps.sh installs them).
set -euo pipefail
part=$1 sim=$2 src=$3
py=/usr/bin/python3

need() { echo "SKIP: $1 not installed (scripts/deps.sh installs it)"; exit 77; }
case $part in
  readout*) command -v node >/dev/null && [ -d "$src/node/node_modules/smartmeter-obis" ] ||
      need "node + smartmeter-obis (tests/node)" ;;
  programming|baud-check|timing) $py -c 'import serial' 2>/dev/null || need python3-serial ;;
esac

dir=$(mktemp -d)
port=$dir/optical
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

start_sim() { # extra klefr-sim options...
  "$sim" --headless --model 6921 --load 230V,10A,pf=1 --speed 1 --state-dir "$dir" \
    --ir-port "$port" --duration 3600 --trace iec "$@" >"$dir/sim.out" 2>"$dir/sim.err" &
  pid=$!
  for _ in $(seq 100); do
    [ -L "$port" ] && [ -e "$port" ] && return 0 # the link to a live pty
    sleep 0.05
  done
  echo "FAIL: klefr-sim did not open its optical port"; cat "$dir/sim.err"; exit 1
}
fail() { echo "FAIL: $*"; echo "--- sim stderr:"; tail -30 "$dir/sim.err"; exit 1; }

# 230 V, 10 A, PF 1 for a few seconds: energy registered, values measured.
expect='{"0.0.0":"17060102","C.1.0":"17060102","0.2.0":2.18,"32.7.0":[230,0.001],
 "31.7.0":[10,0.001],"14.7.0":[50,0.001],"1.7.0":[2.3,0.001],"21.7.0":[2.3,0.001],
 "9.7.0":[2.3,0.001],"13.7.0":[1,0.001],"1.8.0>":0,"16.8.0>":0,"2.8.0":0,"C.7.0":"0000","F.F":"00"}'
case $part in
readout) # line timing off: bytes at once (what it gives up: docs/serial.md)
  start_sim --line-timing off
  sleep 2
  node "$src/iec_master.js" "$port" "$expect" || fail "smartmeter-obis readout"
  ;;
readout-timed) # bytes take their wire time; the meter checks the master's baud
  start_sim
  sleep 2
  node "$src/iec_master.js" "$port" "$expect" || fail "smartmeter-obis readout (line timing)"
  grep -q 'iec: state IDENTIFIED -> READOUT' "$dir/sim.err" || fail "no readout in the trace"
  ;;
programming)
  start_sim
  $py "$src/iec_prog.py" "$port" 17060102 || fail "programming round trip"
  grep -q 'iec: written calc code' "$dir/sim.err" || fail "--trace iec did not log the write"
  ;;
baud-check) # the pty's baud is compared with the meter's (--baud-check on)
  start_sim
  $py "$src/iec_prog.py" "$port" 17060102 --baud-check || fail "baud check"
  ;;
timing) # master-side reaction times and gaps: readout at 9600 and at 300 baud
  start_sim
  $py "$src/serial_timing.py" iec "$port" 5 || fail "timing at 9600"
  $py "$src/serial_timing.py" iec "$port" 0 || fail "timing at 300"
  ;;
esac
echo "iec-$part: ok"
