#!/usr/bin/env bash
# Integration: klefr-sim --model 6924 on a pty, polled by real Modbus masters.
#   modbus_masters.sh PART KLEFR_SIM MB_CLIENT SRCDIR
# PART: mbpoll | libmodbus | pymodbus | robustness | bauds. Exit 77 (skip)
# only when the master that PART needs is not installed (scripts/deps.sh
# installs them).
set -euo pipefail
part=$1 sim=$2 client=$3 src=$4
py=/usr/bin/python3

need() { echo "SKIP: $1 not installed (scripts/deps.sh installs it)"; exit 77; }
case $part in
  mbpoll) command -v mbpoll >/dev/null || need mbpoll ;;
  libmodbus) [ -n "$client" ] && [ -x "$client" ] || need libmodbus-dev ;;
  pymodbus) $py -c 'import pymodbus, serial' 2>/dev/null || need python3-pymodbus ;;
  robustness) $py -c 'import serial' 2>/dev/null || need python3-serial ;;
  bauds) command -v mbpoll >/dev/null || need mbpoll
    [ -n "$client" ] && [ -x "$client" ] || need libmodbus-dev
    $py -c 'import serial' 2>/dev/null || need python3-serial ;;
esac

dir=$(mktemp -d)
port=$dir/modbus
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

# The meter sees 230 V, 10 A, PF 1 in real time (masters need real time); a
# private state directory: nothing persists between tests or leaks into ~.
extra=(--load 230V,10A,pf=1 --speed 1 --state-dir "$dir")
export KLEFR_STATE_DIR=$dir

start_sim() { # extra klefr-sim options...
  if [ -n "$pid" ]; then kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; fi
  "$sim" --headless --model 6924 --modbus-port "$port" --duration 3600 "${extra[@]}" "$@" \
    >"$dir/sim.out" 2>"$dir/sim.err" &
  pid=$!
  for _ in $(seq 100); do
    [ -L "$port" ] && [ -e "$port" ] && return 0 # the link to a live pty
    sleep 0.05
  done
  echo "FAIL: klefr-sim did not open its Modbus port"; cat "$dir/sim.err"; exit 1
}

fail() { echo "FAIL: $*"; echo "--- sim stderr:"; tail -20 "$dir/sim.err"; exit 1; }
# The meter changes its line settings once its reply has left the wire, at a
# later tick of a simulator that runs in real time beside this script: wait
# until "$@" (a read with the new settings) is answered (20 tries).
await() {
  for _ in $(seq 20); do sleep 0.1; "$@" >/dev/null 2>&1 && return 0; done
  fail "no answer with the new settings: $*"
}
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; echo "ok: $1 = $2"; }
# within REL_TOL of WANT
expect_near() { awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t * (w < 0 ? -w : w)) }' ||
  fail "$1: got $2, want $3 within $4"; echo "ok: $1 = $2"; }

# Live values from a float block starting at 0x5000: V f I P Q S PF at word
# offsets 0 8 10 0x12 0x1A 0x22 0x2A -> float indices 0 4 5 9 13 17 21.
check_live() { # "f0 f1 ... f21" from a 44-register read
  read -r -a f <<<"$1"
  expect_near voltage "${f[0]}" 230 0.001
  expect_near current "${f[5]}" 10 0.001
  expect_near frequency "${f[4]}" 50 0.001
  expect_near active_power_kw "${f[9]}" 2.3 0.001
  expect_near apparent_power_kva "${f[17]}" 2.3 0.001
  expect_near power_factor "${f[21]}" 1 0.001
}

# Read the 0x5000 block with "$@" until the meter has measured (voltage != 0;
# the DSP needs a block or so after power-up), at most 10 s.
live_block() {
  local v
  for _ in $(seq 100); do
    v=$("$@")
    awk -v x="${v%% *}" 'BEGIN { exit !(x != 0) }' && break
    sleep 0.1
  done
  echo "$v"
}

mbpoll_read() { # ID BAUD PARITY TYPE REF COUNT
  mbpoll -m rtu -a "$1" -b "$2" -P "$3" -t "$4" -B -r "$5" -c "$6" -1 -o 1 "$port" |
    sed -n 's/^\[[0-9]*\]:[[:space:]]*//p' | tr '\n' ' ' | sed 's/ $//'
}

case $part in
mbpoll)
  # Line timing on: bytes take the time a 9600-baud wire would.
  start_sim --line-timing on
  expect_eq serial "$(mbpoll_read 1 9600 even 4:hex 0x4001 2)" "0x1706 0x0102"
  expect_eq meter_code "$(mbpoll_read 1 9600 even 4:hex 0x4003 1)" "0x6924"
  expect_eq sw_version "$(mbpoll_read 1 9600 even 4:float 0x4008 1)" "2.18"
  vals=$(live_block mbpoll_read 1 9600 even 4:float 0x5001 22)
  [ "$(wc -w <<<"$vals")" = 22 ] || fail "0x5000 block: $vals"
  check_live "$vals"
  e=$(mbpoll_read 1 9600 even 4:float 0x6001 36)
  [ "$(wc -w <<<"$e")" = 36 ] || fail "0x6000 block: $e"
  # mbpoll writes: ID 1 -> 12, then reads with the new ID; the old one is silent.
  mbpoll -m rtu -a 1 -b 9600 -P even -t 4 -r 0x4004 -1 -o 1 "$port" 12 >/dev/null || fail "write ID"
  expect_eq new_id "$(mbpoll_read 12 9600 even 4 0x4004 1)" "12"
  if mbpoll -m rtu -a 1 -b 9600 -P even -t 4 -r 0x4004 -1 -o 0.3 "$port" >/dev/null 2>&1; then
    fail "old ID 1 still answered"; fi
  # A master at the wrong baud is not understood.
  if mbpoll -m rtu -a 12 -b 4800 -P even -t 4 -r 0x4004 -1 -o 0.5 "$port" >/dev/null 2>&1; then
    fail "a 4800-baud master was answered by a 9600-baud meter"; fi
  # Restart (a power cycle): the new ID was saved in the EEPROM. With the
  # check off, the pty's baud is not compared (documented default: on).
  start_sim --baud-check off
  expect_eq id_after_restart "$(mbpoll_read 12 4800 even 4 0x4004 1)" "12"
  if mbpoll -m rtu -a 1 -b 9600 -P even -t 4 -r 0x4004 -1 -o 0.3 "$port" >/dev/null 2>&1; then
    fail "ID 1 answered after a restart: the written ID was not saved"; fi
  ;;
libmodbus)
  start_sim --trace modbus
  c() { "$client" "$port" "$@"; }
  expect_eq identity "$(c 9600 E 1 read 0x4000 3)" "0x1706 0x0102 0x6924"
  check_live "$(live_block c 9600 E 1 readf 0x5000 44)"
  [ "$(c 9600 E 1 readf 0x6000 72 | wc -w)" = 36 ] || fail "0x6000 block"
  # every write of the A3.2 table, read back
  c 9600 E 1 writef 0x400D 10 || fail "S0 rate"
  expect_eq s0_rate "$(c 9600 E 1 readf 0x400D 2)" "10"
  c 9600 E 1 write 0x400F 10 || fail "calc code"
  expect_eq calc_code "$(c 9600 E 1 read 0x400F 1)" "0x000A"
  c 9600 E 1 write 0x4010 0x25 || fail "LCD cycle"
  expect_eq lcd_cycle "$(c 9600 E 1 read 0x4010 1)" "0x0025"
  c 9600 E 1 write 0x4016 0 || fail "power-down counter reset"
  expect_eq power_downs "$(c 9600 E 1 read 0x4016 1)" "0x0000"
  c 9600 E 1 write 0x6048 2 || fail "tariff 2"
  expect_eq tariff "$(c 9600 E 1 read 0x6048 1)" "0x0002"
  c 9600 E 1 write 0x6048 11 || fail "tariff 11 (T1 not saved)"
  expect_eq tariff_not_saved "$(c 9600 E 1 read 0x6048 1)" "0x0001"
  c 9600 E 1 writef 0x6049 0 || fail "day counter reset"
  # exceptions as libmodbus reports them
  err=$(c 9600 E 1 write 0x400F 11 2>&1 || true)
  grep -q 'Illegal data value' <<<"$err" || fail "calc code 11: $err"
  err=$(c 9600 E 1 read 0x0000 1 2>&1 || true)
  grep -q 'Illegal data address' <<<"$err" || fail "read 0x0000: $err"
  # ID, then baud, then parity; reconnect with the new settings each time
  c 9600 E 1 write 0x4003 10 || fail "write ID"
  expect_eq id "$(c 9600 E 10 read 0x4003 1)" "0x000A"
  c 9600 E 10 write 0x4004 4800 || fail "write baud (the reply comes at the old baud)"
  await c 4800 E 10 read 0x4003 1
  if c 9600 E 10 read 0x4003 1 >/dev/null 2>&1; then fail "answered at the old baud"; fi
  expect_eq baud "$(c 4800 E 10 read 0x4004 1)" "0x12C0"
  c 4800 E 10 write 0x4011 3 || fail "write parity odd"
  await c 4800 O 10 read 0x4011 1
  expect_eq parity "$(c 4800 O 10 read 0x4011 1)" "0x0003"
  c 4800 O 10 write 0x4004 9600 || fail "write baud back"
  await c 9600 O 10 read 0x4004 1
  expect_eq baud "$(c 9600 O 10 read 0x4004 1)" "0x2580"
  grep -q 'modbus: rx addr=10 fc=06 write reg=0x4004 (baud) value=0x12C0 crc=ok' "$dir/sim.err" ||
    fail "--trace modbus did not log the decoded baud write"
  # replies are traced at the time they go on the wire, in time order
  sed -n 's/.* t=\([0-9]*\.[0-9]*\)$/\1/p' "$dir/sim.err" |
    awk 'NR > 1 && $1 < last { print "line " NR ": t=" $1 " after t=" last; bad = 1 } { last = $1 } END { exit bad }' ||
    fail "--trace times went backwards"
  ;;
pymodbus)
  start_sim
  p() { $py "$src/mb_pymodbus.py" "$port" "$@"; }
  expect_eq identity "$(p 9600 1 read 0x4000 3)" "0x1706 0x0102 0x6924"
  check_live "$(live_block p 9600 1 readf 0x5000 44)"
  p 9600 1 write 0x4003 33 || fail "write ID"
  expect_eq id "$(p 9600 33 read 0x4003 1)" "0x0021"
  p 9600 33 write 0x4004 2400 || fail "write baud"
  await p 2400 33 read 0x4004 1
  expect_eq baud "$(p 2400 33 read 0x4004 1)" "0x0960"
  ;;
robustness)
  start_sim --line-timing off # frames delimited by length and CRC alone
  $py "$src/mb_raw.py" "$port" || fail "robustness (line timing off)"
  start_sim # t3.5 silence from the byte times
  $py "$src/mb_raw.py" "$port" || fail "robustness (line timing on)"
  ;;
bauds)
  # Timing on the master's side at every baud; each baud change is followed
  # at once by a request at the new baud (serial_timing.py).
  start_sim
  $py "$src/serial_timing.py" modbus "$port" 9600,4800,2400,1200 || fail "timing"
  # mbpoll and libmodbus at each baud the 6924 has; the baud is written by
  # libmodbus at the old one and the next master asks at once at the new.
  old=9600
  for baud in 1200 2400 4800 9600; do
    "$client" "$port" "$old" E 1 write 0x4004 "$baud" || fail "libmodbus: write baud $baud at $old"
    expect_eq "mbpoll at $baud" "$(mbpoll_read 1 "$baud" even 4:hex 0x4001 2)" "0x1706 0x0102"
    expect_eq "libmodbus at $baud" "$("$client" "$port" "$baud" E 1 read 0x4004 1)" \
      "$(printf '0x%04X' "$baud")"
    [ "$("$client" "$port" "$baud" E 1 readf 0x6000 72 | wc -w)" = 36 ] || fail "0x6000 block at $baud"
    old=$baud
  done
  ;;
esac
echo "modbus-$part: ok"
