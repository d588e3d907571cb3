#!/usr/bin/env bash
# Integration: klefr-sim with its window (a real X window: run under
# xvfb-run -a, tests/meson.build) polled by real masters through its ptys, at
# the window's line timing. Issue 8 was first seen with the window: a
# 50-register reply at 1200 baud came whole after 1.07 s and mbpoll (1 s
# timeout) gave up; a readout at 300 baud came in bursts 4.3 s apart.
#   window_masters.sh KLEFR_SIM MB_CLIENT SRCDIR
# Exit 77 (skip) only when a master or xdotool is missing (scripts/deps.sh).
set -euo pipefail
sim=$1 client=$2 src=$3
py=/usr/bin/python3

need() { echo "SKIP: $1 not installed (scripts/deps.sh installs it)"; exit 77; }
[ -n "${DISPLAY:-}" ] || need "a display (run under xvfb-run)"
command -v xdotool >/dev/null || need xdotool
command -v mbpoll >/dev/null || need mbpoll
[ -n "$client" ] && [ -x "$client" ] || need libmodbus-dev
$py -c 'import serial' 2>/dev/null || need python3-serial
command -v node >/dev/null && [ -d "$src/node/node_modules/smartmeter-obis" ] ||
  need "node + smartmeter-obis (tests/node)"

dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- sim stderr:"; tail -20 "$dir/sim.err"; exit 1; }

# The window, in real time (its default), a private state directory.
unset SDL_VIDEODRIVER
"$sim" --model 6924 --load 230V,10A,pf=1 --state-dir "$dir" --duration 3600 \
  --modbus-port "$dir/modbus" --ir-port "$dir/ir" --trace modbus,iec \
  >"$dir/sim.out" 2>"$dir/sim.err" &
pid=$!
for _ in $(seq 200); do
  [ -L "$dir/modbus" ] && [ -e "$dir/modbus" ] && [ -L "$dir/ir" ] && [ -e "$dir/ir" ] && break
  sleep 0.05
done
[ -e "$dir/ir" ] || fail "klefr-sim did not open its ports"
xdotool search --sync --onlyvisible --name '^KLEFR 6924' >/dev/null || fail "no window"
echo "ok: the window is up"

# Modbus: timing on the master's side at 9600 and 1200 (switched by a write,
# the next request at once at the new baud), back to 9600.
$py "$src/serial_timing.py" modbus "$dir/modbus" 9600,1200 || fail "Modbus timing with the window"
# mbpoll (1 s timeout) reads 50 registers at 1200 baud: 105 bytes, 0.96 s on
# the wire, streamed as the wire delivers them.
"$client" "$dir/modbus" 9600 E 1 write 0x4004 1200 || fail "libmodbus: write baud 1200"
out=$(mbpoll -m rtu -a 1 -b 1200 -P even -t 4:hex -r 0x6001 -c 50 -1 "$dir/modbus") ||
  { echo "$out"; fail "mbpoll: 50 registers at 1200 baud"; }
[ "$(grep -c '^\[' <<<"$out")" = 50 ] || { echo "$out"; fail "mbpoll: not 50 registers"; }
echo "ok: mbpoll read 50 registers at 1200 baud"
[ "$("$client" "$dir/modbus" 1200 E 1 read 0x4004 1)" = 0x04B0 ] || fail "libmodbus at 1200"
echo "ok: libmodbus at 1200 baud"

# IEC: smartmeter-obis's readout (it switches to 9600), then our client's
# readout at 9600 followed at once by a sign-on, and one that stays at 300.
node "$src/iec_master.js" "$dir/ir" '{"0.0.0":"17060102","32.7.0":[230,0.001],"31.7.0":[10,0.001]}' ||
  fail "smartmeter-obis readout with the window"
$py "$src/serial_timing.py" iec "$dir/ir" 5 || fail "IEC timing at 9600 with the window"
$py "$src/serial_timing.py" iec "$dir/ir" 0 || fail "IEC timing at 300 with the window"

# The trace never goes backwards, and the window is still there.
sed -n 's/.* t=\([0-9]*\.[0-9]*\)$/\1/p' "$dir/sim.err" |
  awk 'NR > 1 && $1 < last { print "line " NR ": t=" $1 " after t=" last; bad = 1 } { last = $1 } END { exit bad }' ||
  fail "--trace times went backwards"
grep -q 'iec: tx data readout' "$dir/sim.err" || fail "no readout in the trace"
kill -0 "$pid" 2>/dev/null || fail "klefr-sim ended"
kill -TERM "$pid"
wait "$pid" || fail "klefr-sim exit $?"
pid=
grep -q '"end":[[:space:]]*"signal"' "$dir/sim.out" || fail "no report after SIGTERM"
echo "window-masters: ok"
