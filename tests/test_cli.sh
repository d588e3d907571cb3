#!/usr/bin/env bash
# klefr-sim command line: help, input errors as file:line with exit 2,
# determinism, state directory, clean stop on SIGINT; ADC overload warning;
# the bench-accuracy report; "inputs": what an outside campaign found (bad
# inputs, a full disk, shared port links).
# usage: test_cli.sh KLEFR_SIM SCENARIOS_DIR [basic|persist|clipping|bench-accuracy|inputs]
set -uo pipefail
sim=$1
scen=$2
part=${3:-basic}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# expect_exit CODE STDERR_SUBSTRING -- ARGS...
expect_exit() {
  local want=$1 msg=$2
  shift 3
  timeout 60 "$sim" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" != "$want" ]; then
    fail "$* -> exit $rc, want $want; stderr: $(cat "$tmp/err")"
  elif [ -n "$msg" ] && ! grep -qF -- "$msg" "$tmp/err"; then
    fail "$* -> stderr '$(cat "$tmp/err")' lacks '$msg'"
  else
    ok "$* -> exit $rc"
  fi
}

# json FILE EXPR: evaluate a Python expression on the parsed JSON as j
json() { "$py" -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

if [ "$part" = basic ]; then
  "$sim" --help >"$tmp/help" 2>&1 && grep -q -- "--load SPEC" "$tmp/help" && ok "--help exits 0" || fail "--help"

  expect_exit 2 "--load '230V,10X': '10X': unknown unit" -- --headless --ephemeral --load 230V,10X --duration 1
  expect_exit 2 "'pf=1.5': power factor must be -1..1" -- --headless --ephemeral --load pf=1.5 --duration 1
  expect_exit 2 "unknown option" -- --headless --bogus
  expect_exit 2 "--model '6925'" -- --model 6925
  expect_exit 2 "--duration '1 hour'" -- --duration "1 hour"
  expect_exit 2 "--speed '-1'" -- --speed -1
  expect_exit 2 "exclude each other" -- --load 5A --replay x.csv
  # Port addresses are checked before anything runs; a port that cannot be
  # bound is a host failure (exit 1).
  expect_exit 2 "--modbus-port 'tcp:127.0.0.1:70000': '70000' is not a TCP port" -- \
    --headless --ephemeral --modbus-port tcp:127.0.0.1:70000 --duration 1
  expect_exit 2 "--ir-port 'rfc2217:::1:5': an IPv6 address goes in brackets" -- \
    --headless --ephemeral --ir-port rfc2217:::1:5 --duration 1
  expect_exit 1 "tcp:192.0.2.1:0" -- --headless --ephemeral --modbus-port tcp:192.0.2.1:0 --duration 1
  expect_exit 0 "--speed max with a serial port" -- --headless --ephemeral --speed max \
    --modbus-port tcp:0 --duration 1
  # max is also the default of a headless run with an end: a user polling
  # the port for the hour asked would see it close at once without a word
  expect_exit 0 "--speed max (the default of a headless run with an end) with a serial port" -- \
    --headless --ephemeral --ir-port tcp:0 --duration 1h
  # A bad --press is a usage error found before any state is touched.
  expect_exit 2 "--press 'R@inf'" -- --headless --state-dir "$tmp/press-state" --press R@inf --duration 1
  [ ! -e "$tmp/press-state" ] && ok "a bad --press creates no state directory" ||
    fail "a bad --press created $tmp/press-state"

  printf '{\n  "segments": [\n    {"duration": 10}\n    {"duration": 10}\n  ]\n}\n' >"$tmp/bad.json"
  expect_exit 2 "$tmp/bad.json:4: not valid JSON" -- --headless --ephemeral --profile "$tmp/bad.json"
  printf '[\n  {"duration": 10},\n  {"duration": 10, "pf": 3}\n]\n' >"$tmp/bad2.json"
  expect_exit 2 "$tmp/bad2.json:3: 'pf=3'" -- --headless --ephemeral --profile "$tmp/bad2.json"
  expect_exit 2 "$tmp/missing.json: cannot open" -- --headless --ephemeral --profile "$tmp/missing.json"

  printf 'time,v,i\n0,0,0\n0.001,1,1\n0.002,oops,1\n' >"$tmp/bad.csv"
  expect_exit 2 "$tmp/bad.csv:4: column 2: 'oops' is not a number" -- --headless --ephemeral --replay "$tmp/bad.csv"
  printf 'v,i\n1,2\n3,4\n' >"$tmp/norate.csv"
  expect_exit 2 "$tmp/norate.csv:2: no time column" -- --headless --ephemeral --replay "$tmp/norate.csv"
  printf 'not a wave file' >"$tmp/bad.wav"
  expect_exit 2 "$tmp/bad.wav: not a RIFF/WAVE file" -- --headless --ephemeral --replay "$tmp/bad.wav"

  # Trainer options: Err 02 from the command line, the layout, a paused
  # start (window only), and --record (also of --press presses).
  "$sim" --headless --ephemeral --fault program-crc --lcd-text --duration 1 >"$tmp/err02" 2>&1
  grep -q "^lcd 0.000 .*| Err 02 |" "$tmp/err02" && ok "--fault program-crc shows Err 02 from the start" ||
    fail "--fault program-crc: $(head -3 "$tmp/err02")"
  expect_exit 2 "--fault 'eeprom': expected program-crc" -- --headless --ephemeral --fault eeprom
  expect_exit 2 "--layout 'wide': expected normal or present" -- --layout wide
  expect_exit 2 "--speed paused needs the window" -- --headless --speed paused
  expect_exit 2 "--record and --profile exclude each other" -- --headless --record "$tmp/x.json" --profile x.json
  expect_exit 1 "--record $tmp/no/such/dir/r.json" -- --headless --ephemeral --duration 1 --record "$tmp/no/such/dir/r.json"
  if "$sim" --headless --ephemeral --model 6922 --press R@1+0.3,B@2+3.2 --duration 6 \
       --record "$tmp/rec.json" >/dev/null 2>"$tmp/err" &&
     [ "$(json "$tmp/rec.json" '[(e["at"], e["button"], e["hold"]) for e in j["events"]]')" = \
       "[(1.0, 'right', 0.3), (2.0, 'both', 3.2)]" ] &&
     [ "$(json "$tmp/rec.json" '[(x["at"], x["lcd"]) for x in j["expect"]] + [j["duration"]]')" = \
       "[(1.55, 'text'), (5.45, 'text'), 6.0]" ]; then
    ok "--record writes the --press presses and an LCD check after each"
  else
    fail "--record: $(cat "$tmp/err") $(head -c 600 "$tmp/rec.json")"
  fi
  # ... a scenario by the schema, that plays back to the same LCD states
  "$py" -c "import json,jsonschema,sys; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))" \
    "$tmp/rec.json" "$scen/schema.json" && ok "the recording is valid by scenarios/schema.json" ||
    fail "the recording is not valid by the schema"
  "$sim" scenario --quiet "$tmp/rec.json" && ok "the recording plays back (its LCD checks hold)" ||
    fail "the recording does not play back"
  # A meter with history (energy, LCD cycle 11 s set in program mode 2): the
  # recording starts from its settings and registers, and plays back.
  "$sim" --headless --state-dir "$tmp/rs" --load 230V,20A --duration 20 \
    --press L@1,L@2,L@3,R@4+3.2,R@8+5.2,R@14,B@15+3.2 >/dev/null 2>&1
  "$sim" --headless --state-dir "$tmp/rs" --load 230V,20A --press R@1+0.3 --duration 2 \
    --record "$tmp/rec2.json" >/dev/null 2>&1
  if [ "$(json "$tmp/rec2.json" '(j["meter"]["settings"], j["expect"][0]["eq"])')" = \
       "({'lcd_cycle_s': 11}, 'FW >> kWh | 0.02 | TOTAL')" ] &&
     "$sim" scenario --quiet "$tmp/rec2.json"; then
    ok "a recording starts from the meter's settings and registers and plays back"
  else
    fail "recording with history: $(head -c 800 "$tmp/rec2.json")"
  fi

  # A recording plays to its end, then the run stops.
  "$py" -c "
import math
with open('$tmp/rec.csv','w') as f:
    for k in range(8000):
        t=k/8000; f.write('%.6f,%.4f\n' % (325.27*math.sin(2*math.pi*50*t), 14.142*math.sin(2*math.pi*50*t)))"
  if "$sim" --headless --ephemeral --replay "$tmp/rec.csv" --replay-rate 8000 >"$tmp/rec.out" 2>"$tmp/err" &&
     [ "$(json "$tmp/rec.out" '(j["end"], j["t_s"])')" = "('replay-end', 1)" ]; then
    ok "replay ends with the recording"
  else
    fail "replay run: $(cat "$tmp/err") $(head -c 300 "$tmp/rec.out")"
  fi

  # Paced: 1 s of virtual time at 50x ends by itself.
  if "$sim" --headless --ephemeral --speed 50 --duration 1 --load 5A >"$tmp/paced.out" 2>"$tmp/err" &&
     [ "$(json "$tmp/paced.out" '(j["end"], j["t_s"])')" = "('duration', 1)" ]; then
    ok "--speed 50 --duration 1"
  else
    fail "paced run: $(cat "$tmp/err")"
  fi

  # Determinism: the same scenario and seed twice give the same JSON.
  for n in 1 2; do
    "$sim" --headless --ephemeral --model 6922 --seed 7 --load 230V,10A,noise=0.5/0.05 \
      --profile "$scen/profiles/household-day.json" --duration 30min >"$tmp/det$n" || fail "determinism run $n"
  done
  cmp -s "$tmp/det1" "$tmp/det2" && ok "same seed, same output" || fail "outputs differ: $(diff "$tmp/det1" "$tmp/det2" | head)"

  # State directory: the second run starts from what the first one saved.
  for n in 1 2; do
    "$sim" --headless --state-dir "$tmp/state" --load 230V,10A,pf=1 --duration 10min >"$tmp/run$n" ||
      fail "state run $n"
  done
  e1=$(json "$tmp/run1" 'j["energy"]["active_fwd_kwh"]["total"]')
  e2=$(json "$tmp/run2" 'j["energy"]["active_fwd_kwh"]["total"]')
  if "$py" -c "import sys; sys.exit(0 if $e2 >= $e1 else 1)"; then
    ok "second run's registers >= first run's ($e1, $e2 kWh)"
  else
    fail "second run went backwards: $e1 then $e2 kWh"
  fi

  # One process per state directory.
  "$sim" --headless --state-dir "$tmp/state" --speed 1 --load 5A >/dev/null 2>&1 &
  pid=$!
  sleep 0.5
  expect_exit 1 "is in use by another klefr-sim" -- --headless --state-dir "$tmp/state" --duration 1
  kill -TERM "$pid"
  wait "$pid" || fail "SIGTERM: exit $?"

  # A screenshot that cannot be written fails the run (exit 1), registers still printed.
  expect_exit 1 "--screenshot $tmp/no/such/dir/p.png" -- --headless --ephemeral --duration 1 --screenshot "$tmp/no/such/dir/p.png"
  grep -q '"end":' "$tmp/out" && ok "registers printed after a failed screenshot" ||
    fail "no registers after a failed screenshot"

  # A reader that goes away (SIGPIPE) stops the run like a signal: the
  # meter saves (the next run counts the power-down), then exit 1.
  "$sim" --headless --state-dir "$tmp/pipe" --lcd-text --load 5A --duration 1h 2>/dev/null | head -1 >/dev/null
  rc=${PIPESTATUS[0]}
  "$sim" --headless --state-dir "$tmp/pipe" --duration 1 >"$tmp/pipe.out" 2>/dev/null
  downs=$(json "$tmp/pipe.out" 'j["power_downs"]')
  [ "$rc" = 1 ] && [ "$downs" = 2 ] && ok "a closed pipe stops and saves" ||
    fail "a closed pipe: exit $rc (want 1), power downs $downs after the next run (want 2)"

  # Real time without --duration: runs until SIGINT, then saves and prints.
  "$sim" --headless --ephemeral --speed 1 --load 5A >"$tmp/sig.out" 2>"$tmp/sig.err" &
  pid=$!
  sleep 1
  kill -INT "$pid"
  wait "$pid"
  rc=$?
  if [ "$rc" = 0 ] && [ "$(json "$tmp/sig.out" '(j["end"], j["power_downs"])')" = "('signal', 1)" ]; then
    ok "SIGINT stops cleanly"
  else
    fail "SIGINT: exit $rc, $(cat "$tmp/sig.err") $(head -c 200 "$tmp/sig.out")"
  fi

  # Two runs on one link path: test_cli.sh inputs (the second leaves the
  # first one's link alone; the first's stop removes only its own).
fi

if [ "$part" = persist ]; then
  # Needs the metering and store work: energy and the power-down counter
  # continue across runs (a clean stop is a power cut with a save).
  for n in 1 2; do
    "$sim" --headless --state-dir "$tmp/state" --load 230V,10A,pf=1 --duration 10min >"$tmp/run$n" ||
      fail "state run $n"
  done
  e1=$(json "$tmp/run1" 'j["energy"]["active_fwd_kwh"]["total"]')
  e2=$(json "$tmp/run2" 'j["energy"]["active_fwd_kwh"]["total"]')
  d1=$(json "$tmp/run1" 'j["power_downs"]')
  d2=$(json "$tmp/run2" 'j["power_downs"]')
  if "$py" -c "import sys; e1,e2=$e1,$e2; sys.exit(0 if abs(e1-0.38333)<0.004 and abs(e2-2*e1)<0.002*e1+1e-6 else 1)"; then
    ok "energy continues: $e1 then $e2 kWh"
  else
    fail "energy does not continue: $e1 then $e2 kWh (want ~0.3833 then ~0.7667)"
  fi
  [ "$d1" = 1 ] && [ "$d2" = 2 ] && ok "power downs 1 then 2" || fail "power downs $d1 then $d2, want 1 then 2"
fi

if [ "$part" = inputs ]; then
  # What an outside campaign (issue 13) found; each ran for ever, crashed,
  # lost data silently or said something unclear. A hang fails by timeout.
  expect_exit 2 "'phi=1e30': phi must be -360..360" -- --headless --ephemeral --load phi=1e30 --duration 1
  expect_exit 2 "'Phi=-9E92': phi must be" -- --headless --ephemeral --load Phi=-9E92 --duration 1
  expect_exit 2 "noise must be 0..1000" -- --headless --ephemeral --load noise=1e308/0,dc=-1e308/0 --duration 1
  expect_exit 2 "DC offsets must be" -- --headless --ephemeral --load dc=-1e308/0 --duration 1
  printf '[{"duration": 1, "phi": 1e300}]' >"$tmp/phi.json"
  expect_exit 2 "$tmp/phi.json:1: 'phi=1e+300': phi must be" -- --headless --ephemeral --profile "$tmp/phi.json"
  printf '[\f{"duration": 1}]' >"$tmp/ff.json"
  expect_exit 0 "" -- --headless --ephemeral --profile "$tmp/ff.json"
  printf '[{"duration": 1,\n "i": 2,\n "i": 3}]' >"$tmp/dup.json"
  expect_exit 2 "$tmp/dup.json:3: duplicate key \"i\" (first on line 2)" -- --headless --ephemeral --profile "$tmp/dup.json"
  printf '[{"duration": 1, "harmonics": [{"order": 5.7, "v_pct": 3}]}]' >"$tmp/order.json"
  expect_exit 2 "must be a whole number 2..40" -- --headless --ephemeral --profile "$tmp/order.json"
  "$py" -c "import sys; print('[' + ','.join(['{\"duration\": 1e11}'] * 185) + ']')" >"$tmp/long.json"
  expect_exit 2 "$tmp/long.json:1: the profile lasts longer than" -- --headless --ephemeral --profile "$tmp/long.json"
  "$py" -c "
h = ', '.join('{\"order\": %d, \"v_pct\": 1.2345678901234567, \"i_pct\": 9.876543210987654, \"v_phase\": -12.345678901234567, \"i_phase\": 98.76543210987654}' % (33 + k) for k in range(8))
print('[{\"duration\": 1, \"i\": 5, \"harmonics\": [' + h + ']}]')" >"$tmp/harm8.json"
  expect_exit 0 "" -- --headless --ephemeral --profile "$tmp/harm8.json"
  printf '0,1,2\n0.001,1,2\n1e300,1,2\n' >"$tmp/jump.csv"
  expect_exit 2 "$tmp/jump.csv:3: time 1e+300 out of range" -- --headless --ephemeral --replay "$tmp/jump.csv"
  printf '1,2\n3,4\n' >"$tmp/v_i.csv"
  expect_exit 2 "--replay-rate 1e-300: expected 100 to" -- --headless --ephemeral --replay "$tmp/v_i.csv" --replay-rate 1e-300
  mkdir -p "$tmp/adir"
  expect_exit 2 "$tmp/adir: is a directory, not a recording" -- --headless --ephemeral --replay "$tmp/adir"
  expect_exit 2 "$tmp/adir: is a directory, not a file" -- --headless --ephemeral --profile "$tmp/adir"
  mkdir -p "$tmp/dirstate/eeprom.bin"
  expect_exit 1 "eeprom.bin: is a directory, not an EEPROM image" -- --headless --state-dir "$tmp/dirstate" --duration 1
  mkdir -p "$tmp/dangling"
  ln -s nowhere.bin "$tmp/dangling/eeprom.bin"
  expect_exit 1 "eeprom.bin: symlink to nowhere.bin: No such file" -- --headless --state-dir "$tmp/dangling" --duration 1
  [ -L "$tmp/dangling/eeprom.bin" ] && ok "the dangling link is left alone" || fail "the dangling link was replaced"

  # A full disk: RLIMIT_FSIZE (SIGXFSZ ignored) makes write() fail with EFBIG,
  # unprivileged and on any filesystem. The JSON goes through a pipe (no
  # limit). A host failure is exit 1, said on stderr and in the JSON, never
  # the meter's Err 01.
  full_run() { # state-dir duration
    ( trap '' XFSZ; ulimit -f 1; exec "$sim" --headless --state-dir "$1" --load 230V,10A --duration "$2" ) \
      2>"$tmp/full.err" | cat >"$tmp/full.out"
    return "${PIPESTATUS[0]}"
  }
  for d in 10min 1h; do
    full_run "$tmp/full-$d" "$d"
    rc=$?
    if [ "$rc" = 1 ] && grep -q "cannot save the EEPROM file: File too large" "$tmp/full.err" &&
       grep -q "the registers were not saved" "$tmp/full.err" &&
       [ "$(json "$tmp/full.out" '(j["save"], j["error"])')" = "('failed', 0)" ]; then
      ok "disk full ($d): exit 1, stderr, \"save\": \"failed\", no Err 01"
    else
      fail "disk full ($d): exit $rc, $(cat "$tmp/full.err") $(json "$tmp/full.out" '(j["save"], j["error"])' 2>&1)"
    fi
  done
  # The same for an installation (--fleet): every meter's file, exit 1. Its
  # report and stderr pass 1 KiB: both go through pipes.
  { ( trap '' XFSZ; ulimit -f 1; "$sim" --fleet "$scen/fleets/building-24.json" --headless \
      --state-dir "$tmp/full-fleet" --duration 10min; echo $? >"$tmp/fleet.rc" ) 2>&1 1>&3 |
      cat >"$tmp/fleet.err"; } 3>&1 | cat >"$tmp/fleet.out"
  n=$(grep -c "eeprom.bin: the registers were not saved: File too large" "$tmp/fleet.err")
  if [ "$(cat "$tmp/fleet.rc")" = 1 ] && [ "$n" = 24 ] &&
     [ "$(json "$tmp/fleet.out" 'sorted({(m["save"], m["error"]) for m in j["meters"]})')" = "[('failed', 0)]" ]; then
    ok "disk full (--fleet): exit 1, a line per meter, \"save\": \"failed\", no Err 01"
  else
    fail "disk full (--fleet): exit $(cat "$tmp/fleet.rc"), $n lines: $(tail -3 "$tmp/fleet.err")"
  fi
  "$sim" --headless --state-dir "$tmp/fine" --duration 1 >"$tmp/fine.out" 2>/dev/null
  "$sim" --headless --ephemeral --duration 1 >"$tmp/eph.out" 2>/dev/null
  [ "$(json "$tmp/fine.out" 'j["save"]')/$(json "$tmp/eph.out" 'j["save"]')" = "ok/none" ] &&
    ok "\"save\": ok with a state dir, none with --ephemeral" || fail "save fields: $(cat "$tmp/fine.out")"

  # Two --ephemeral runs share the default link directory: the second must
  # not re-point the first one's links (it runs without links and says so),
  # nor the first remove the second's; an explicit link in use is an error.
  export KLEFR_STATE_DIR=$tmp/links
  "$sim" --headless --ephemeral --speed 1 --duration 300 >/dev/null 2>"$tmp/first.err" &
  first=$!
  for _ in $(seq 600); do [ -L "$tmp/links/modbus" ] && break; sleep 0.05; done
  before=$(readlink "$tmp/links/modbus")
  expect_exit 0 "$tmp/links/modbus is in use by another klefr-sim: no link" -- --headless --ephemeral --duration 1
  grep -q "^modbus: /dev/pts/[0-9]* (link: none)" "$tmp/err" && ok "the second says its pty" ||
    fail "the second run's port line: $(cat "$tmp/err")"
  [ "$(readlink "$tmp/links/modbus")" = "$before" ] && [ -e "$tmp/links/modbus" ] &&
    ok "the first run's link still points at its pty ($before)" || fail "the link was re-pointed"
  expect_exit 1 "link $tmp/links/modbus is in use by another klefr-sim" -- --headless --ephemeral --duration 1 --modbus-port "$tmp/links/modbus"
  kill -TERM "$first"
  wait "$first"
  [ ! -e "$tmp/links/modbus" ] && ok "its links go with it" || fail "links left behind"
  unset KLEFR_STATE_DIR
fi

if [ "$part" = clipping ]; then
  # ADC overload: a synthetic load beyond full scale is counted
  # (clipped_samples) and warned about once on stderr; one inside the range
  # is neither. A rectifier current: odd harmonics peaking with the
  # fundamental (crest factor 2.95).
  shape=h3=0/80,h5=0/60,h7=0/40,h9=0/20,h11=0/10

  # 150 A rms: peaks of 442 A against 400 A full scale.
  "$sim" --headless --ephemeral --load "230V,100.9A,$shape" --duration 5 >"$tmp/big.json" 2>"$tmp/big.err"
  n=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['clipped_samples'])" "$tmp/big.json")
  [ "$n" -gt 0 ] && ok "150 A rms rectifier: clipped_samples = $n" || fail "clipped_samples = $n, want > 0"
  w=$(grep -c "ADC overload" "$tmp/big.err")
  [ "$w" = 1 ] && ok "one overload warning" || fail "$w overload warnings: $(cat "$tmp/big.err")"
  grep -q "t=0.00 s: ADC overload: the current exceeds full scale" "$tmp/big.err" &&
    ok "the warning names the channel and the time" || fail "warning text: $(cat "$tmp/big.err")"

  # 100 A rms (67.3 A fundamental): peaks of 295 A, inside the range.
  "$sim" --headless --ephemeral --load "230V,67.27A,$shape" --duration 5 >"$tmp/ok.json" 2>"$tmp/ok.err"
  n=$("$py" -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['clipped_samples'], round(j['measure']['i']))" "$tmp/ok.json")
  [ "$n" = "0 100" ] && ok "100 A rms rectifier: no clipping" || fail "clipped_samples, I = $n, want 0 100"
  grep -q "ADC overload" "$tmp/ok.err" && fail "a warning without clipping: $(cat "$tmp/ok.err")" || ok "no warning"
fi

if [ "$part" = bench-accuracy ]; then
  # The test bench report passes on this firmware and its three files are
  # well formed: Markdown tables, JSON with every point, SVG that parses.
  "$sim" bench-accuracy --out "$tmp/out" --seconds 3 >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  [ $rc = 0 ] && ok "bench-accuracy exits 0" || fail "exit $rc: $(cat "$tmp/stderr")"
  cmp -s "$tmp/stdout" <(cat "$tmp/out/accuracy.md"; printf '\nAll points within their limits.\n') &&
    ok "stdout is the Markdown report" || fail "stdout and accuracy.md differ"
  "$py" - "$tmp/out" <<'PY' && ok "JSON, Markdown and SVG well formed" || fail "report files"
import json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
j = json.load(open(d + "/accuracy.json"))
pts = j["points"]
basic = [p for p in pts if p["group"] == "5.2"]
infl = [p for p in pts if p["group"] == "influence"]
assert j["pass"] is True, "not all pass"
assert len(basic) == 25, len(basic)
assert len(infl) == 16, len(infl)
for p in basic:
    assert abs(p["error_pct"]) <= p["limit_pct"], p
    assert p["truth_wh"] > 0 and p["registered_wh"] > 0, p
names = {p["name"] for p in infl}
for want in ("voltage 0.9 Un, Ib PF 1", "frequency 51 Hz, Ib PF 0.5L", "frequency 45 Hz, Ib PF 1"):
    assert want in names, want
assert any(n.startswith("DC and even harmonics") for n in names)
assert any(n.startswith("sub-harmonics") for n in names)
assert {p["group"] for p in pts} >= {"starting", "no-load"}
md = open(d + "/accuracy.md").read()
assert md.count("| ok |") == len(pts), md.count("| ok |")
svg = ET.parse(d + "/accuracy.svg").getroot()
assert svg.tag.endswith("svg")
assert len([e for e in svg.iter() if e.tag.endswith("circle")]) == 2 * len(basic)
PY
  "$sim" bench-accuracy --seconds 0 >/dev/null 2>"$tmp/err"
  [ $? = 2 ] && grep -q -- "--seconds '0'" "$tmp/err" && ok "bad --seconds: exit 2" || fail "bad --seconds: $(cat "$tmp/err")"
  "$sim" bench-accuracy --out /proc/nope >/dev/null 2>"$tmp/err"
  [ $? = 1 ] && grep -q "/proc/nope" "$tmp/err" && ok "unwritable --out: exit 1" || fail "unwritable --out: $(cat "$tmp/err")"
fi

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
