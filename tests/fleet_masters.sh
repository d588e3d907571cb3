#!/usr/bin/env bash
# Integration: klefr-sim --fleet (docs/fleet.md), installations of many
# meters on shared lines, driven by real masters.
#   fleet_masters.sh PART KLEFR_SIM SRCDIR LIBMBUS_BIN_DIR MB_CLIENT
# PART:
#   mbus-install  20 meters (6923) at primary address 0 as delivered:
#                 mbus-serial-scan-secondary finds all 20, mbus-serial-set-address
#                 gives each 1..20 by secondary address, mbus-serial-scan then finds
#                 20 and no collision, REQ_UD2 to each returns its own registers; after
#                 a restart on the same state directory each keeps its address
#   mbus-collision two meters at one primary address: libmbus's scan reports the
#                 collision, a request gets no valid reply
#   gateway       10 meters (6924) on RS-485 behind --modbus-gateway: mbpoll -m tcp
#                 reads each one's voltage and energy, a missing ID gives 0x0B, a
#                 broadcast (unit 0, pymodbus) reaches all; libmodbus's and pymodbus's
#                 TCP clients read too; two clients at once; an RTU master on the
#                 line's pty (<state-dir>/modbus) beside the gateway
#   determinism   the same file and seed give the same registers; another seed not;
#                 each meter its load (a share of the site profile, its own profile or load)
#   lines         two M-bus lines (pty, tcp:) and two RS-485 lines (pty, rfc2217:),
#                 the same addresses on each: libmbus, mbpoll and pymodbus reach
#                 only their line's meters
#   window        (under xvfb-run) the window with libmbus on the M-bus line and
#                 mbpoll through the gateway; Tab and P in the window cut the
#                 supply of the meter the list moved to, not another's
#   files         the examples in scenarios/fleets run and match the JSON Schema; every
#                 malformed file in tests/fleets gives its one error line and exit 2;
#                 options that need --fleet, or do not go with it, exit 2; the
#                 --speed max warnings as for one meter
# Exit 77 (skip) only when a master is not installed (scripts/deps.sh installs them).
set -euo pipefail
part=$1 sim=$2 src=$3 bin=${4:-} client=${5:-}
py=/usr/bin/python3

need() { echo "SKIP: $1 not installed (scripts/deps.sh installs it)"; exit 77; }
case $part in
  lines) [ -x "$bin/mbus-tcp-request-data" ] || need "libmbus tools"
    command -v mbpoll >/dev/null || need mbpoll
    $py -c 'import pymodbus, serial' 2>/dev/null || need "python3-pymodbus, python3-serial" ;;
  window) [ -n "${DISPLAY:-}" ] || need "a display (run under xvfb-run)"
    command -v xdotool >/dev/null || need xdotool
    command -v mbpoll >/dev/null || need mbpoll
    [ -x "$bin/mbus-serial-scan-secondary" ] || need "libmbus tools" ;;
  mbus-*) [ -x "$bin/mbus-serial-scan-secondary" ] && [ -x "$bin/mbus-serial-set-address" ] ||
            need "libmbus tools (reconfigure the build after scripts/deps.sh)" ;;
  gateway) command -v mbpoll >/dev/null || need mbpoll
    $py -c 'import pymodbus' 2>/dev/null || need python3-pymodbus
    [ -n "$client" ] && [ -x "$client" ] || need libmodbus-dev ;;
esac

dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
export KLEFR_STATE_DIR=$dir

fail() { echo "FAIL: $*"; echo "--- sim stderr:"; tail -20 "$dir/sim.err" 2>/dev/null; exit 1; }
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; echo "ok: $1 = $2"; }
expect_near() { awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }' ||
  fail "$1: got $2, want $3 +- $4"; echo "ok: $1 = $2"; }

# Run the fleet in real time (masters need it) until the test ends.
start_fleet() { # FILE extra options...
  local file=$1; shift
  "$sim" --fleet "$file" --headless --speed 1 --state-dir "$dir/state" "$@" \
    >"$dir/sim.out" 2>"$dir/sim.err" &
  pid=$!
  for _ in $(seq 200); do
    grep -q "started in" "$dir/sim.err" 2>/dev/null && [ -e "$dir/state/${link:-mbus}" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "klefr-sim --fleet exited"
    sleep 0.05
  done
  fail "the fleet did not open its ports"
}

case $part in
mbus-install)
  # Serial numbers of two deliveries, 1x...... and 2x......: a secondary scan
  # at 9600 resolves them in two levels (a delivery numbered 21050101..20 would
  # cost ~70 empty probes of 1.2 s each: realistic, but minutes of CI).
  $py - "$dir/site.json" <<'PY'
import json, sys
meters = []
for k in range(20):
    g, d = divmod(k, 10)
    serial = f"{g + 1}{d}{(k * 7919 + 104729) % 10**6:06d}"
    meters.append({"id": f"flat-{k + 1:02d}", "model": 6923, "serial": serial,
                   # its own registers, so a reply can only be its own
                   "registers": {"active_fwd_kwh": {"t1": 10 + k}}})
json.dump({"name": "block-b", "lines": [{"id": "mbus", "bus": "mbus", "baud": 9600}],
           "meters": meters}, open(sys.argv[1], "w"), indent=1)
PY
  serials=$($py -c 'import json,sys; print(" ".join(m["serial"] for m in json.load(open(sys.argv[1]))["meters"]))' "$dir/site.json")
  start_fleet "$dir/site.json"
  port=$dir/state/mbus
  # 1. All 20 at primary address 0: found by secondary address.
  "$bin/mbus-serial-scan-secondary" -b 9600 "$port" >"$dir/scan2.txt" 2>&1 || fail "scan-secondary: $(tail -5 "$dir/scan2.txt")"
  cat "$dir/scan2.txt"
  found=$(grep -c "^Found a device on secondary address" "$dir/scan2.txt" || true)
  expect_eq "meters found by secondary address" "$found" 20
  for s in $serials; do
    grep -q "secondary address ${s}CD250102 " "$dir/scan2.txt" || fail "serial $s not found"
  done
  echo "ok: every serial number found (manufacturer INM = CD 25, version 01, medium 02)"
  # 2. Readdress each to 1..20 by its secondary address.
  n=0
  for s in $serials; do
    n=$((n + 1))
    out=$("$bin/mbus-serial-set-address" -b 9600 "$port" "${s}CD250102" $n 2>&1) ||
      fail "set-address $s -> $n: $out"
    expect_eq "set-address $s" "$out" "Set primary address of device to $n"
  done
  # 3. A scan by primary address: 20, each once, no collision.
  "$bin/mbus-serial-scan" -b 9600 "$port" >"$dir/scan1.txt" 2>&1 || fail "scan"
  expect_eq "meters found by primary address" "$(grep -c '^Found a M-Bus device at address' "$dir/scan1.txt")" 20
  expect_eq "addresses" "$(sed -n 's/^Found a M-Bus device at address //p' "$dir/scan1.txt" | tr '\n' ' ')" \
    "$(seq -s ' ' 1 20) "
  ! grep -q Collision "$dir/scan1.txt" || fail "a collision: $(grep Collision "$dir/scan1.txt")"
  echo "ok: no collision"
  # 4. REQ_UD2 to each: its own serial number and registers.
  n=0
  for s in $serials; do
    n=$((n + 1))
    xml=$("$bin/mbus-serial-request-data" -b 9600 "$port" $n) || fail "request-data $n"
    expect_eq "address $n id" "$(sed -n 's:.*<Id>\(.*\)</Id>.*:\1:p' <<<"$xml" | head -1)" "$s"
    # record 0 (total), 10 Wh units: (10 + n - 1) kWh
    expect_eq "address $n energy (10 Wh)" \
      "$(sed -n 's:.*<Value>\(.*\)</Value>.*:\1:p' <<<"$xml" | head -1)" "$(((9 + n) * 100))"
  done
  # 5. A restart on the same state directory: each meter kept the address it
  #    saved (<state-dir>/<id>/eeprom.bin), not the file's factory 0.
  kill "$pid"; wait "$pid" || true; pid=
  [ -s "$dir/state/flat-07/eeprom.bin" ] || fail "no EEPROM file for flat-07"
  rm -f "$dir/state/mbus"
  start_fleet "$dir/site.json"
  set -- $serials
  for n in 1 7 20; do
    xml=$("$bin/mbus-serial-request-data" -b 9600 "$port" $n) || fail "after the restart: request-data $n"
    expect_eq "after the restart, address $n id" \
      "$(sed -n 's:.*<Id>\(.*\)</Id>.*:\1:p' <<<"$xml" | head -1)" "${!n}"
  done
  if out=$("$bin/mbus-serial-request-data" -b 9600 "$port" 0 2>&1); then
    fail "after the restart a meter answers at address 0: $out"
  fi
  echo "ok: after the restart nobody is at address 0"
  ;;

mbus-collision)
  cat >"$dir/site.json" <<'EOF'
{"lines": [{"bus": "mbus", "baud": 9600}],
 "meters": [{"id": "a", "serial": "21050101", "settings": {"mbus_id": 5}},
            {"id": "b", "serial": "21050102", "settings": {"mbus_id": 5}},
            {"id": "c", "serial": "21050103", "settings": {"mbus_id": 6}}]}
EOF
  start_fleet "$dir/site.json" --trace mbus
  port=$dir/state/mbus
  if out=$("$bin/mbus-serial-request-data" -b 9600 "$port" 5 2>&1); then
    fail "a request to address 5 got a valid reply from two meters: $out"
  fi
  echo "ok: a request to address 5 (two meters) gets no valid frame: $(tail -1 <<<"$out")"
  xml=$("$bin/mbus-serial-request-data" -b 9600 "$port" 6) || fail "request-data 6"
  expect_eq "address 6 (one meter) id" "$(sed -n 's:.*<Id>\(.*\)</Id>.*:\1:p' <<<"$xml" | head -1)" 21050103
  "$bin/mbus-serial-scan" -b 9600 "$port" >"$dir/scan1.txt" 2>&1 || fail "scan"
  cat "$dir/scan1.txt"
  grep -q "^Collision at address 5$" "$dir/scan1.txt" || fail "libmbus saw no collision at address 5"
  echo "ok: libmbus reports the collision at address 5"
  expect_eq "found" "$(grep '^Found' "$dir/scan1.txt")" "Found a M-Bus device at address 6"
  grep -q "a mbus: tx RSP_UD a=5" "$dir/sim.err" && grep -q "b mbus: tx RSP_UD a=5" "$dir/sim.err" ||
    fail "both meters should have answered the request to 5"
  echo "ok: both meters answered (their replies collided on the line)"
  ;;

gateway)
  link=modbus
  # 10 meters, Modbus IDs 1..10, each its own voltage and starting energy.
  $py - "$dir/site.json" <<'PY'
import json, sys
meters = [{"id": f"drive-{k:02d}", "model": 6924, "serial": f"3100{k:04d}", "load": f"{220 + k}V,5A",
           "settings": {"modbus_id": k}, "registers": {"active_fwd_kwh": {"t1": 1000 + k}}}
          for k in range(1, 11)]
json.dump({"name": "plant", "lines": [{"id": "modbus", "bus": "rs485", "baud": 9600}],
           "meters": meters}, open(sys.argv[1], "w"), indent=1)
PY
  start_fleet "$dir/site.json" --modbus-gateway tcp:0
  gw=$(sed -n 's/.*Modbus TCP gateway on 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/sim.err")
  [ -n "$gw" ] || fail "no gateway line"
  echo "gateway on port $gw"
  mbp() { mbpoll -m tcp -p "$gw" -0 -1 "$@" 127.0.0.1; }
  val() { sed -n 's/^\[[0-9]*\]:[[:space:]]*//p' | head -1; }
  # The meters measure their first block 0.2 s after power-up: wait for it.
  for _ in $(seq 50); do
    v=$(mbp -a 10 -t 4:float -B -r 0x5000 -c 1 2>/dev/null | val) || true
    awk -v v="${v:-0}" 'BEGIN { exit !(v > 200) }' && break
    sleep 0.1
  done
  for k in $(seq 1 10); do
    v=$(mbp -a $k -t 4:float -B -r 0x5000 -c 1 | val) || fail "mbpoll id $k voltage"
    expect_near "id $k voltage" "$v" $((220 + k)) 0.5
    e=$(mbp -a $k -t 4:float -B -r 0x6000 -c 1 | val) || fail "mbpoll id $k energy"
    expect_near "id $k total energy (kWh)" "$e" $((1000 + k)) 0.05
  done
  if out=$(mbp -a 11 -r 0x5000 -c 2 2>&1); then fail "id 11 answered: $out"; fi
  grep -q "Target device failed to respond" <<<"$out" || fail "id 11: $out"
  echo "ok: a missing ID gets exception 0x0B (Target device failed to respond)"
  # A broadcast write (unit 0): the LCD cycle (0x4010, 30 s) reaches every meter.
  $py - "$gw" <<'PY' || fail "pymodbus broadcast"
import sys
from pymodbus.client import ModbusTcpClient
c = ModbusTcpClient("127.0.0.1", port=int(sys.argv[1]), timeout=3, broadcast_enable=True)
assert c.connect()
c.write_register(0x4010, 0x0030, slave=0)
c.close()
PY
  sleep 0.3 # the gateway waits 100 ms after a broadcast before the next request
  for k in $(seq 1 10); do
    expect_eq "id $k LCD cycle after the broadcast" "$(mbp -a $k -r 0x4010 -c 1 -t 4:hex | val)" "0x0030"
  done
  # libmodbus's TCP client (tests/mb_client.c) and pymodbus's.
  expect_near "libmodbus id 7 voltage" "$("$client" "tcp:127.0.0.1:$gw" - - 7 readf 0x5000 2)" 227 0.5
  if out=$("$client" "tcp:127.0.0.1:$gw" - - 12 read 0x5000 2 2>&1); then fail "libmodbus id 12: $out"; fi
  grep -q "Target device failed to respond" <<<"$out" || fail "libmodbus id 12: $out"
  echo "ok: libmodbus sees 0x0B for a missing ID"
  $py - "$gw" <<'PY' || fail "pymodbus reads"
import struct, sys
from pymodbus.client import ModbusTcpClient
c = ModbusTcpClient("127.0.0.1", port=int(sys.argv[1]), timeout=3)
assert c.connect()
for k in range(1, 11):
    r = c.read_holding_registers(0x5000, 2, slave=k)
    assert not r.isError(), (k, r)
    v = struct.unpack(">f", struct.pack(">HH", *r.registers))[0]
    assert abs(v - (220 + k)) < 0.5, (k, v)
r = c.read_holding_registers(0x5000, 2, slave=13)
assert r.isError() and getattr(r, "exception_code", None) == 0x0B, r
c.close()
print("ok: pymodbus reads ids 1..10, id 13 gives exception 0x0B")
PY
  # The line's own link (<state-dir>/modbus, where one meter's port sits): an
  # RTU master opening it after all that gateway traffic reads only its reply.
  v=$(mbpoll -m rtu -b 9600 -P even -a 3 -t 4:float -B -0 -r 0x5000 -c 1 -1 "$dir/state/modbus" | val) ||
    fail "mbpoll -m rtu on the line's pty"
  expect_near "id 3 voltage over the line's pty, after the gateway's traffic" "$v" 223 0.5
  # Two clients at once: their requests queue at the gateway, each gets its own replies.
  clients=()
  for c in 1 2; do
    ( for k in $(seq 1 10); do mbp -a $k -t 4:float -B -r 0x5000 -c 1 | val; done >"$dir/c$c.txt" ) &
    clients+=($!)
  done
  wait "${clients[@]}" || true
  for c in 1 2; do
    expect_eq "client $c, concurrent reads" "$(awk '{printf "%d ", $1 + 0.5}' "$dir/c$c.txt")" \
      "221 222 223 224 225 226 227 228 229 230 "
  done
  ;;

determinism)
  cat >"$dir/site.json" <<'EOF'
{"seed": 7,
 "lines": [{"bus": "mbus"}, {"bus": "rs485"}],
 "site": {"load": "230V,8A,pf=0.93L,noise=0.2/0.01", "spread": 0.4},
 "meters": [{"id": "m", "count": 6, "model": 6923}, {"id": "r", "count": 6, "model": 6924,
             "addresses": "sequential"}, {"id": "p", "model": 6921, "load": "230V,3A"}]}
EOF
  run() { "$sim" --fleet "$dir/site.json" --headless --ephemeral --duration 20min "$@" 2>/dev/null; }
  run >"$dir/a.json" || fail "run a"
  run >"$dir/b.json" || fail "run b"
  cmp -s "$dir/a.json" "$dir/b.json" || fail "two runs differ: $(diff "$dir/a.json" "$dir/b.json" | head)"
  echo "ok: the same file and seed give the same registers ($(grep -c '"id"' "$dir/a.json") meters)"
  run --seed 8 >"$dir/c.json" || fail "run c"
  ! cmp -s "$dir/a.json" "$dir/c.json" || fail "another seed gave the same registers"
  echo "ok: another seed gives other registers"
  # The spread: the 12 site meters draw different currents.
  n=$($py -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len({round(m["measure"]["i"],2) for m in r["meters"]}))' "$dir/a.json")
  [ "$n" -ge 12 ] || fail "only $n different currents among 13 meters"
  echo "ok: $n different currents"
  # Each meter its load: a share of the site's profile, its own profile, its
  # own constant load.
  root=$(cd "$src/.." && pwd)
  cat >"$dir/loads.json" <<EOF
{"site": {"profile": "$root/scenarios/profiles/household-day.json"}, "lines": [{"bus": "mbus"}],
 "meters": [{"id": "whole", "model": 6923}, {"id": "half", "model": 6923, "share": 0.5},
            {"id": "own", "model": 6921, "profile": "$root/scenarios/profiles/household-day.json"},
            {"id": "fixed", "model": 6922, "load": "230V,5A,pf=1"}]}
EOF
  "$sim" --fleet "$dir/loads.json" --headless --ephemeral --duration 8h >"$dir/loads.out" 2>/dev/null ||
    fail "loads run"
  read -r whole half own fixed < <($py -c 'import json,sys
print(*(m["energy"]["active_fwd_kwh"]["total"] for m in json.load(open(sys.argv[1]))["meters"]))' "$dir/loads.out")
  awk -v w="$whole" 'BEGIN { exit !(w > 1) }' || fail "the site profile's 8 h: $whole kWh"
  expect_near "a share of 0.5 of the site's profile (kWh)" "$half" "$(awk -v w="$whole" 'BEGIN { print w / 2 }')" 0.01
  expect_near "its own profile, the same as the site's (kWh)" "$own" "$whole" 0.01
  expect_near "its own 230 V 5 A for 8 h (kWh)" "$fixed" 9.2 0.01
  ;;
files)
  root=$(cd "$src/.." && pwd)
  for f in "$root"/scenarios/fleets/*.json; do
    [ "$(basename "$f")" = schema.json ] && continue
    "$sim" --fleet "$f" --modbus-gateway tcp:0 --headless --ephemeral --duration 2min \
      >"$dir/out.json" 2>"$dir/sim.err" </dev/null ||
      "$sim" --fleet "$f" --headless --ephemeral --duration 2min >"$dir/out.json" 2>"$dir/sim.err" ||
      fail "$f does not run: $(cat "$dir/sim.err")"
    # the report's head first (docs/fleet.md), then the meters
    n=$($py -c 'import json,sys; r=json.load(open(sys.argv[1]))
assert list(r) == ["fleet", "t_s", "end", "meters"], list(r)
print(len(r["meters"]), r["t_s"])' "$dir/out.json") || fail "$f: the report: $(cat "$dir/out.json" | head -3)"
    echo "ok: $(basename "$f") runs: $n (meters, seconds)"
  done
  while IFS='|' read -r file want mode; do
    case $file in ''|'#'*) continue ;; esac
    cd "$root/tests/fleets"
    set +e
    "$sim" --fleet "$file" --headless --ephemeral --duration 1 >/dev/null 2>"$dir/err"
    rc=$?
    set -e
    cd - >/dev/null
    expect_eq "$file: exit status" "$rc" 2
    expect_eq "$file: message" "$(cat "$dir/err")" "$want"
  done <"$root/tests/fleets/expected-errors.txt"
  $py - "$root" <<'PY' || fail "schema"
import json, sys, glob, os, jsonschema
root = sys.argv[1]
schema = json.load(open(os.path.join(root, "scenarios/fleets/schema.json")))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = 0
for f in sorted(glob.glob(os.path.join(root, "scenarios/fleets/*.json"))):
    if f.endswith("schema.json"):
        continue
    errs = list(v.iter_errors(json.load(open(f))))
    print(("FAIL: " + errs[0].message) if errs else f"ok: {os.path.basename(f)} matches the schema")
    bad += bool(errs)
for line in open(os.path.join(root, "tests/fleets/expected-errors.txt")):
    if line.startswith("#") or not line.strip():
        continue
    name, _, mode = line.rstrip("\n").split("|")
    if mode != "reject":
        continue
    errs = list(v.iter_errors(json.load(open(os.path.join(root, "tests/fleets", name)))))
    print(f"ok: the schema refuses {name}" if errs else f"FAIL: the schema accepts {name}")
    bad += not errs
sys.exit(1 if bad else 0)
PY
  # Options of one meter, and fleet options without a fleet.
  for args in "--model 6923" "--load 230V,5A" "--press R@1"; do
    set +e
    "$sim" --fleet "$root/scenarios/fleets/plant-12.json" $args --headless >/dev/null 2>"$dir/err"
    rc=$?
    set -e
    expect_eq "--fleet with $args: exit" "$rc" 2
  done
  # --speed max (asked for, or the default of a headless run with an end)
  # with ports the file or the command line named: a warning at the start, as
  # for one meter (test_cli.sh); the default ptys only when a master talks.
  speed_warn() { # WANT (a substring, or "" for none) ARGS...
    local want=$1; shift
    "$sim" --fleet "$root/scenarios/fleets/$1" --headless --ephemeral "${@:2}" >/dev/null 2>"$dir/err" ||
      fail "$*: $(cat "$dir/err")"
    local got; got=$(grep -o -- '--speed max.* with a fleet.s ports' "$dir/err" || true)
    expect_eq "$* -> the start warning" "$got" "$want"
  }
  speed_warn "--speed max (the default of a headless run with an end) with a fleet's ports" \
    plant-12.json --modbus-gateway tcp:0 --duration 1
  speed_warn "--speed max with a fleet's ports" plant-12.json --modbus-gateway tcp:0 --speed max --duration 1
  speed_warn "--speed max (the default of a headless run with an end) with a fleet's ports" \
    building-24.json --mbus-port rfc2217:0 --duration 1
  speed_warn "" building-24.json --duration 1
  speed_warn "" plant-12.json --modbus-gateway tcp:0 --speed 1 --duration 0.1
  "$sim" --fleet "$root/scenarios/fleets/building-24.json" --headless --state-dir "$dir/spd" --speed max \
    >/dev/null 2>"$dir/err" &
  pid=$!
  for _ in $(seq 200); do [ -e "$dir/spd/mbus" ] && break; sleep 0.05; done
  printf '\x10\x40\xfd\x3d\x16' >"$dir/spd/mbus"
  for _ in $(seq 200); do grep -q "a master is talking" "$dir/err" && break; sleep 0.05; done
  kill "$pid"; wait "$pid" || true; pid=
  grep -q "mbus: a master is talking while the clock runs flat out" "$dir/err" ||
    fail "no warning when a master talks at --speed max: $(cat "$dir/err")"
  echo "ok: the default pty at --speed max: a warning when a master talks"
  set +e
  "$sim" --modbus-gateway tcp:0 --headless --duration 1 >/dev/null 2>"$dir/err"; rc=$?
  set -e
  expect_eq "--modbus-gateway without --fleet" "$rc:$(cat "$dir/err")" \
    "2:klefr-sim: --modbus-gateway needs --fleet
(try klefr-sim --help)"
  ;;
lines)
  # Two lines of each kind, each with its own transport, the same addresses
  # on every line: a master on one line reaches only that line's meters.
  cat >"$dir/site.json" <<'EOF'
{"name": "lines",
 "lines": [{"id": "mb-a", "bus": "mbus", "baud": 9600},
           {"id": "mb-b", "bus": "mbus", "baud": 2400, "port": "tcp:0"},
           {"id": "rs-a", "bus": "rs485", "baud": 9600},
           {"id": "rs-b", "bus": "rs485", "baud": 4800, "parity": "even", "port": "rfc2217:0"}],
 "meters": [{"id": "a", "count": 2, "line": "mb-a", "serial": "11000001",
             "settings": {"mbus_id": 1}, "addresses": "sequential"},
            {"id": "b", "count": 2, "line": "mb-b", "serial": "12000001",
             "settings": {"mbus_id": 1}, "addresses": "sequential"},
            {"id": "r", "count": 2, "line": "rs-a", "serial": "13000001", "addresses": "sequential"},
            {"id": "s", "count": 2, "line": "rs-b", "serial": "14000001", "addresses": "sequential"}]}
EOF
  link=mb-a start_fleet "$dir/site.json"
  [ -e "$dir/state/rs-a" ] || fail "no link for rs-a"
  tcp=$(sed -n 's/^mb-b: tcp 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/sim.err")
  rfc=$(sed -n 's/^rs-b: rfc2217 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/sim.err")
  [ -n "$tcp" ] && [ -n "$rfc" ] || fail "ports: $(cat "$dir/sim.err")"
  id_of() { sed -n 's:.*<Id>\(.*\)</Id>.*:\1:p' | head -1; }
  for n in 1 2; do
    expect_eq "mb-a (pty, 9600) address $n" \
      "$("$bin/mbus-serial-request-data" -b 9600 "$dir/state/mb-a" $n | id_of)" "1100000$n"
    expect_eq "mb-b (tcp, 2400) address $n" \
      "$("$bin/mbus-tcp-request-data" 127.0.0.1 "$tcp" $n | id_of)" "1200000$n"
  done
  expect_eq "mb-b by secondary address" \
    "$("$bin/mbus-tcp-request-data" 127.0.0.1 "$tcp" 12000002CD250102 | id_of)" 12000002
  # The serial number registers (0x4000, BCD): r-0k on rs-a, s-0k on rs-b.
  for n in 1 2; do
    expect_eq "rs-a (pty, 9600 8E1) id $n serial" \
      "$(mbpoll -m rtu -b 9600 -P even -a $n -t 4:hex -0 -1 -r 0x4000 -c 2 "$dir/state/rs-a" |
         sed -n 's/^\[[0-9]*\]:[[:space:]]*0x//p' | tr -d '\n')" "1300000$n"
  done
  $py - "$rfc" <<'PY' || fail "pymodbus over rfc2217"
import sys
from pymodbus.client import ModbusSerialClient
c = ModbusSerialClient(port=f"rfc2217://127.0.0.1:{sys.argv[1]}", baudrate=4800, parity="E", timeout=2)
assert c.connect()
for k in (1, 2):
    r = c.read_holding_registers(0x4000, 2, slave=k)
    assert not r.isError(), (k, r)
    assert "%04x%04x" % tuple(r.registers) == f"1400000{k}", r.registers
print("ok: rs-b (rfc2217, 4800 8E1): ids 1 and 2 are s-01 and s-02")
PY
  ;;
window)
  # The window (run under xvfb-run -a): real masters on both lines while it
  # paces the fleet, and its meter list choosing which meter the panel's
  # controls reach: Tab to flat-02, P cuts its supply, and libmbus finds it
  # silent while flat-01 and flat-03 answer.
  cat >"$dir/site.json" <<'EOF'
{"name": "window", "lines": [{"bus": "mbus", "baud": 9600}, {"bus": "rs485", "baud": 9600}],
 "meters": [{"id": "flat", "count": 3, "model": 6923, "serial": "21050101"},
            {"id": "drive", "count": 2, "model": 6924, "load": "225V,4A",
             "settings": {"modbus_id": 1}, "addresses": "sequential"}]}
EOF
  unset SDL_VIDEODRIVER
  "$sim" --fleet "$dir/site.json" --state-dir "$dir/state" --show flat-01 --modbus-gateway tcp:0 \
    >"$dir/sim.out" 2>"$dir/sim.err" &
  pid=$!
  for _ in $(seq 200); do
    grep -q "started in" "$dir/sim.err" 2>/dev/null && [ -e "$dir/state/mbus" ] && break
    kill -0 "$pid" 2>/dev/null || fail "klefr-sim --fleet exited"
    sleep 0.05
  done
  win=$(xdotool search --sync --onlyvisible --name '^KLEFR 6923' | head -1)
  [ -n "$win" ] || fail "no window"
  echo "ok: the window is up"
  port=$dir/state/mbus
  "$bin/mbus-serial-scan-secondary" -b 9600 "$port" >"$dir/scan2.txt" 2>&1 || fail "scan-secondary"
  expect_eq "meters found by secondary address" \
    "$(grep -c '^Found a device on secondary address' "$dir/scan2.txt" || true)" 3
  for n in 1 2 3; do
    out=$("$bin/mbus-serial-set-address" -b 9600 "$port" "2105010${n}CD250102" $n 2>&1) ||
      fail "set-address $n: $out"
  done
  id_at() { "$bin/mbus-serial-request-data" -b 9600 "$port" "$1" 2>/dev/null |
              sed -n 's:.*<Id>\(.*\)</Id>.*:\1:p' | head -1; }
  for n in 1 2 3; do expect_eq "address $n" "$(id_at $n)" "2105010$n"; done
  gw=$(sed -n 's/.*Modbus TCP gateway on 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/sim.err")
  for k in 1 2; do
    v=$(mbpoll -m tcp -p "$gw" -0 -1 -a $k -t 4:float -B -r 0x5000 -c 1 127.0.0.1 |
          sed -n 's/^\[[0-9]*\]:[[:space:]]*//p')
    expect_near "drive $k voltage through the gateway" "${v:-0}" 225 0.5
  done
  # Tab: the next meter of the list (flat-02); P: its supply off.
  xdotool windowactivate --sync "$win" >/dev/null 2>&1 || true
  xdotool key --window "$win" Tab
  sleep 0.3
  xdotool key --window "$win" p
  for _ in $(seq 40); do [ -z "$(id_at 2)" ] && break; sleep 0.25; done
  expect_eq "flat-02 after Tab and P (its supply cut)" "$(id_at 2)" ""
  expect_eq "flat-01, untouched" "$(id_at 1)" 21050101
  expect_eq "flat-03, untouched" "$(id_at 3)" 21050103
  xdotool key --window "$win" p # and back
  for _ in $(seq 40); do [ -n "$(id_at 2)" ] && break; sleep 0.25; done
  expect_eq "flat-02 with its supply back" "$(id_at 2)" 21050102
  kill "$pid"; wait "$pid" || true; pid=
  expect_eq "power-downs of flat-01..03 (the stop; flat-02 also its cut)" \
    "$($py -c 'import json,sys; print(*(m["power_downs"] for m in json.load(open(sys.argv[1]))["meters"][:3]))' "$dir/sim.out")" \
    "1 2 1"
  ;;
*)
  fail "unknown part $part"
  ;;
esac
echo "fleet-$part: ok"
