#!/usr/bin/env bash
# Integration: klefr-sim's network ports (tcp: a raw TCP server, rfc2217: an
# RFC 2217 server) with real masters; port 0 = a free port, read back from
# the line klefr-sim prints.
#   net_masters.sh PART KLEFR_SIM SRCDIR [LIBMBUS_BIN_DIR]
# PART:
#   rfc2217-modbus  pyserial's rfc2217:// client: 8E1 answered, 8N1 and 8O1
#                   not; timing at 9600 and 2400 with the parity on the line
#   rfc2217-mbus    M-bus at 2400 8E1 (libmbus framing checks), timing
#   rfc2217-iec     an IEC readout at 7E1 and the baud change-over
#   tcp-mbus        libmbus's mbus-tcp-request-data at 9600 and 2400, and
#                   mbus-tcp-scan finding the meter
#   tcp-modbus      pymodbus's TCP client with the RTU framer
#   tcp-iec         smartmeter-obis's TCPTransport listening while another
#                   client of the same port asks for the readout
# Exit 77 (skip) only when a master is not installed (scripts/deps.sh).
set -euo pipefail
part=$1 sim=$2 src=$3 bin=${4:-}
py=/usr/bin/python3

need() { echo "SKIP: $1 not installed (scripts/deps.sh installs it)"; exit 77; }
$py -c 'import serial' 2>/dev/null || need python3-serial
case $part in
  tcp-modbus) $py -c 'import pymodbus' 2>/dev/null || need python3-pymodbus ;;
  tcp-mbus) [ -x "$bin/mbus-tcp-request-data" ] || need "libmbus tools (tests/node, then reconfigure)" ;;
  tcp-iec) command -v node >/dev/null && [ -d "$src/node/node_modules/smartmeter-obis" ] ||
      need "node + smartmeter-obis (tests/node)" ;;
esac

dir=$(mktemp -d)
pid= bg=
cleanup() {
  [ -n "$bg" ] && kill "$bg" 2>/dev/null
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
export KLEFR_STATE_DIR=$dir

fail() { echo "FAIL: $*"; echo "--- sim stderr:"; tail -20 "$dir/sim.err"; exit 1; }

# start_sim MODEL NAME SPEC [options...]: klefr-sim in real time with port
# NAME (modbus, mbus, ir) on SPEC; sets $tcp_port to the port it bound.
start_sim() {
  local model=$1 name=$2 spec=$3
  shift 3
  local opt=--$name-port
  "$sim" --headless --model "$model" --load 230V,10A,pf=1 --speed 1 --state-dir "$dir" \
    "$opt" "$spec" --duration 3600 "$@" >"$dir/sim.out" 2>"$dir/sim.err" &
  pid=$!
  tcp_port=
  for _ in $(seq 100); do
    tcp_port=$(sed -n "s/^$name: [a-z0-9]* 127\.0\.0\.1:\([0-9]*\) .*/\1/p" "$dir/sim.err")
    [ -n "$tcp_port" ] && return 0
    sleep 0.05
  done
  fail "klefr-sim did not open its $name port on $spec"
}

case $part in
rfc2217-modbus)
  start_sim 6924 modbus rfc2217:0
  url=rfc2217://127.0.0.1:$tcp_port
  $py "$src/serial_timing.py" modbus-parity "$url" || fail "parity over RFC 2217"
  $py "$src/serial_timing.py" modbus "$url" 9600,2400 || fail "timing over RFC 2217"
  ;;
rfc2217-mbus)
  start_sim 6923 mbus rfc2217:0
  $py "$src/serial_timing.py" mbus "rfc2217://127.0.0.1:$tcp_port" 9600,2400 ||
    fail "M-bus at 2400 8E1 over RFC 2217"
  ;;
rfc2217-iec)
  start_sim 6921 ir rfc2217:0
  $py "$src/serial_timing.py" iec "rfc2217://127.0.0.1:$tcp_port" 5 || fail "IEC at 7E1 over RFC 2217"
  ;;
tcp-mbus)
  start_sim 6923 mbus tcp:0
  out=$("$bin/mbus-tcp-request-data" 127.0.0.1 "$tcp_port" 0 2>&1) || { echo "$out"; fail "mbus-tcp-request-data"; }
  grep -q '<Id>17060102</Id>' <<<"$out" || { echo "$out" | head; fail "no Id"; }
  echo "ok: mbus-tcp-request-data at 9600"
  # The meter to 2400 (CI BB; the device server's serial side follows it)
  $py - "$tcp_port" <<'EOF' || fail "switch to 2400"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(2)
s.sendall(bytes([0x68, 3, 3, 0x68, 0x53, 0, 0xBB, 0x0E, 0x16]))
sys.exit(0 if s.recv(16) == b"\xe5" else 1)
EOF
  out=$("$bin/mbus-tcp-request-data" 127.0.0.1 "$tcp_port" 0 2>&1) || { echo "$out"; fail "at 2400"; }
  grep -q '<Id>17060102</Id>' <<<"$out" || fail "no Id at 2400"
  echo "ok: mbus-tcp-request-data at 2400"
  # A full scan waits libmbus's 4 s TCP timeout at each of the 250 empty
  # addresses: watch it find the meter at address 0 and no one at 1, 2.
  stdbuf -oL "$bin/mbus-tcp-scan" 127.0.0.1 "$tcp_port" >"$dir/scan.out" 2>&1 &
  bg=$!
  for _ in $(seq 200); do grep -q 'address 0' "$dir/scan.out" && break; sleep 0.05; done
  sleep 9
  kill "$bg"; bg=
  grep -q 'Found a M-Bus device at address 0' "$dir/scan.out" || { cat "$dir/scan.out"; fail "mbus-tcp-scan"; }
  [ "$(grep -c 'Found' "$dir/scan.out")" = 1 ] || { cat "$dir/scan.out"; fail "scan found others"; }
  echo "ok: mbus-tcp-scan found the meter at address 0 and nobody at 1..2"
  ;;
tcp-modbus)
  start_sim 6924 modbus tcp:0
  p() { $py "$src/mb_pymodbus.py" "tcp:127.0.0.1:$tcp_port" 9600 "$@"; }
  [ "$(p 1 read 0x4000 3)" = "0x1706 0x0102 0x6924" ] || fail "pymodbus RTU over TCP: identity"
  p 1 write 0x4003 7 || fail "write ID"
  [ "$(p 7 read 0x4003 1)" = "0x0007" ] || fail "read with the new ID"
  echo "ok: pymodbus's TCP client with the RTU framer"
  ;;
tcp-iec)
  start_sim 6921 ir tcp:0
  node "$src/iec_master.js" "tcp:127.0.0.1:$tcp_port" \
    '{"0.0.0":"17060102","32.7.0":[230,0.001],"31.7.0":[10,0.001]}' >"$dir/node.out" 2>&1 &
  bg=$!
  # The listener connects when node has started, which takes a while on a
  # busy machine: ask for readouts until it has heard one (it then exits).
  for _ in $(seq 15); do
    sleep 1
    $py "$src/serial_timing.py" iec "socket://127.0.0.1:$tcp_port" 5 || fail "readout over TCP"
    kill -0 "$bg" 2>/dev/null || break
  done
  wait "$bg" || { cat "$dir/node.out"; bg=; fail "smartmeter-obis TCPTransport"; }
  bg=
  cat "$dir/node.out"
  ;;
*) echo "unknown part $part"; exit 2 ;;
esac
echo "net-$part: ok"
