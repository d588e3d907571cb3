#!/usr/bin/env bash
# klefr-sim scenario (docs/scenarios.md), end to end:
#   library FILE...  each scenario passes; its JUnit file loads in junitparser;
#                    its SVG is well-formed; a second run gives the same report
#                    (outside "wall"); a copy with one expectation changed fails
#                    with exit 1 and the failure line
#   malformed        every tests/scenarios/bad-*.json gives its expected message, exit 2
#   schema           python3-jsonschema accepts the library, refuses the malformed
#                    ones marked "reject"; every scenario file is in the library list
#   cli              options, directories, several files, unwritable outputs
# usage: test_scenarios.sh KLEFR_SIM SOURCE_ROOT PART [FILE...]
set -uo pipefail
sim=$1
root=$2
part=$3
shift 3
py=/usr/bin/python3 # Debian's, with python3-jsonschema and python3-junitparser
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# The report without its wall-clock part.
strip_wall() { "$py" -c "import json,sys; j=json.load(open(sys.argv[1])); j.pop('wall'); print(json.dumps(j, indent=1))" "$1"; }

# A copy of scenario $1 in $2 with its first numeric "eq" changed so that it
# must fail; relative file names made absolute. Prints the expectation's subject.
alter() {
  "$py" - "$1" "$2" <<'PY'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
j = json.load(open(src))
base = os.path.dirname(os.path.abspath(src))
for seg in j.get("timeline", []):
    for k in ("profile", "curve", "replay"):
        if k in seg and not os.path.isabs(seg[k]):
            seg[k] = os.path.join(base, seg[k])
if "state_dir" in j.get("meter", {}):
    j["meter"]["state_dir"] = os.path.join(base, j["meter"]["state_dir"])
for e in j.get("expect", []):
    if isinstance(e.get("eq"), (int, float)) and not isinstance(e.get("eq"), bool):
        tol = e.get("tol", 0) or abs(e["eq"]) * e.get("tol_pct", 0) / 100
        e["eq"] = e["eq"] + 10 * tol + 1 + abs(e["eq"])
        if "reply" in e:  # a serial step's reply: "reply NAME FIELD" or "reply NAME first_byte_ms"
            print("reply %s %s" % (e["reply"], e["field"] if "field" in e else e["timing"] + "_ms"))
            break
        subject = next(e[k] for k in ("value", "pulses", "pulse_width_ms") if k in e)
        kind = "value" if "value" in e else ("pulses" if "pulses" in e else "pulse_width_ms")
        print(subject if kind == "value" else kind + "." + subject)
        break
else:
    sys.exit("no numeric expectation to change in " + src)
json.dump(j, open(dst, "w"), indent=1)
PY
}

library() {
  for f in "$@"; do
    name=$(basename "$f" .json)
    if "$sim" scenario --report "$tmp/$name.1.json" --junit "$tmp/$name.xml" --plot "$tmp/$name.svg" \
         "$f" >"$tmp/out" 2>"$tmp/err"; then
      ok "$f passes ($(tail -1 "$tmp/out"))"
    else
      fail "$f: exit $?: $(cat "$tmp/out" "$tmp/err" | head -20)"
      continue
    fi
    # Every library file says what it shows.
    "$py" -c "import json,sys; d=json.load(open(sys.argv[1])).get('description',''); sys.exit(len(d) < 40)" "$f" &&
      ok "$f has a description" || fail "$f has no description"
    # A standard JUnit consumer reads it: one test case per expectation, no failure.
    if "$py" - "$tmp/$name.xml" "$f" <<'PY'
import json, sys
from junitparser import JUnitXml
xml = JUnitXml.fromfile(sys.argv[1])
j = json.load(open(sys.argv[2]))
# one case per expectation, per meter of an installation when it names none
meters = sum(m.get("count", 1) for m in j.get("meters", [{}]))
n = sum(1 if "meter" in e else meters for e in j.get("expect", []))
cases = [c for s in xml for c in s]
assert len(cases) == n, f"{len(cases)} test cases, {n} expectations"
assert all(c.is_passed for c in cases), [c.name for c in cases if not c.is_passed]
assert xml.tests == n and xml.failures == 0
PY
    then ok "$f: junitparser reads $name.xml"; else fail "$f: JUnit file"; fi
    "$py" -c "import sys, xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); assert r.tag.endswith('svg') and len(r) > 50" "$tmp/$name.svg" &&
      ok "$f: the plot is well-formed SVG" || fail "$f: bad SVG"
    # Determinism: the same scenario, the same report (outside "wall").
    "$sim" scenario --quiet --report "$tmp/$name.2.json" "$f" >/dev/null 2>&1
    if cmp -s <(strip_wall "$tmp/$name.1.json") <(strip_wall "$tmp/$name.2.json"); then
      ok "$f: two runs, identical reports"
    else
      fail "$f: reports differ: $(diff <(strip_wall "$tmp/$name.1.json") <(strip_wall "$tmp/$name.2.json") | head -5)"
    fi
    # One expectation changed: must fail, exit 1, with the failure line.
    subject=$(alter "$f" "$tmp/$name.altered.json") || { fail "$f: cannot alter"; continue; }
    "$sim" scenario "$tmp/$name.altered.json" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    line=$(grep -E "^$tmp/$name.altered.json: t=[0-9.e+]+ s: expect ([A-Za-z0-9_.-]+: )?$subject (=|in|>=|<=) .*, got " "$tmp/out" | head -1)
    if [ "$rc" = 1 ] && [ -n "$line" ]; then
      ok "$f altered: exit 1, '$line'"
    else
      fail "$f altered: exit $rc, no failure line for $subject: $(head -5 "$tmp/out") $(cat "$tmp/err")"
    fi
  done
}

malformed() {
  while IFS='|' read -r file msg schema; do
    case "$file" in '#'* | '') continue ;; esac
    path=tests/scenarios/$file
    "$sim" scenario "$path" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" = 2 ] && grep -qF -- "$path:$msg" "$tmp/err" && [ "$(wc -l <"$tmp/err")" = 1 ]; then
      ok "$file: exit 2, $(cat "$tmp/err")"
    else
      fail "$file: exit $rc, stderr '$(cat "$tmp/err")', want '$path:$msg'"
    fi
  done <tests/scenarios/expected-errors.txt
  # A bad file stops the whole run before anything runs.
  "$sim" scenario scenarios/ev-charge.json tests/scenarios/bad-time.json >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" = 2 ] && [ ! -s "$tmp/out" ] && ok "one bad file refuses the run" ||
    fail "a bad file among good ones: exit $rc, stdout '$(head -3 "$tmp/out")'"
  "$sim" scenario tests/scenarios/no-such.json >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" = 2 ] && grep -qF "tests/scenarios/no-such.json: cannot open: No such file" "$tmp/err" &&
    ok "missing file: exit 2" || fail "missing file: exit $rc, '$(cat "$tmp/err")'"
}

schema() {
  # The file in the tree is what the generator writes (one row per kind there too).
  if "$py" scripts/gen_scenario_schema.py "$tmp/schema.json" && cmp -s "$tmp/schema.json" scenarios/schema.json; then
    ok "scenarios/schema.json is up to date with scripts/gen_scenario_schema.py"
  else
    fail "scenarios/schema.json differs from what scripts/gen_scenario_schema.py writes"
  fi
  "$py" - "$@" <<'PY' || fails=$((fails + 1))
import glob, json, os, sys
import jsonschema
schema = json.load(open("scenarios/schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = 0
listed = set(sys.argv[1:])
for f in sorted(glob.glob("scenarios/*.json")):
    if f.endswith("schema.json"):
        continue
    if f not in listed:
        print(f"FAIL: {f} is not in the library list of tests/meson.build"); bad += 1
    errs = list(v.iter_errors(json.load(open(f))))
    if errs:
        print(f"FAIL: {f}: {errs[0].message}"); bad += 1
    else:
        print(f"ok: {f} is valid against scenarios/schema.json")
for line in open("tests/scenarios/expected-errors.txt"):
    if line.startswith("#") or not line.strip():
        continue
    name, _, mode = line.rstrip("\n").split("|")
    if mode != "reject":
        continue
    errs = list(v.iter_errors(json.load(open("tests/scenarios/" + name))))
    if errs:
        print(f"ok: the schema refuses {name}")
    else:
        print(f"FAIL: the schema accepts {name}"); bad += 1
sys.exit(1 if bad else 0)
PY
}

cli() {
  "$sim" scenario --help >"$tmp/out" 2>&1 && grep -q -- "--junit FILE.xml" "$tmp/out" && ok "--help" || fail "--help"
  "$sim" scenario >/dev/null 2>"$tmp/err"; [ $? = 2 ] && ok "no file: exit 2" || fail "no file"
  "$sim" scenario --bogus x.json >/dev/null 2>"$tmp/err"; [ $? = 2 ] && grep -q "unknown option" "$tmp/err" && ok "unknown option: exit 2" || fail "unknown option"
  "$sim" scenario --trace foo scenarios/ev-charge.json >/dev/null 2>"$tmp/err"; [ $? = 2 ] && ok "bad --trace: exit 2" || fail "bad --trace"
  # A folder: every *.json but the schema, in name order; one plot each.
  mkdir -p "$tmp/dir"
  cp scenarios/tariff-command-6923.json scenarios/tariff-command-6924.json scenarios/schema.json "$tmp/dir/"
  if "$sim" scenario --plot "$tmp/p.svg" --junit "$tmp/j.xml" "$tmp/dir" >"$tmp/out" 2>&1 &&
     grep -q "2 scenarios: 2 passed, 0 failed" "$tmp/out" &&
     [ -s "$tmp/p-tariff-command-6923.svg" ] && [ -s "$tmp/p-tariff-command-6924.svg" ]; then
    ok "a folder runs every scenario, one plot each"
  else
    fail "folder run: $(cat "$tmp/out")"
  fi
  "$py" -c "
from junitparser import JUnitXml
x = JUnitXml.fromfile('$tmp/j.xml'); assert len(list(x)) == 2 and x.failures == 0" && ok "one test suite per scenario" || fail "junit suites"
  # A folder without scenarios (a typo among others) is refused by name, nothing runs.
  mkdir -p "$tmp/empty"
  "$sim" scenario "$tmp/dir" "$tmp/empty" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" = 2 ] && [ "$(cat "$tmp/err")" = "$tmp/empty: no *.json scenario in this folder" ] && [ ! -s "$tmp/out" ] &&
    ok "an empty folder: exit 2, named" || fail "empty folder: exit $rc, '$(cat "$tmp/err")' $(head -2 "$tmp/out")"
  # JUnit suite names from paths with ./, ../ and a leading / are dotted names
  # without empty parts ("tests.scenarios.......scenarios.x" before).
  "$sim" scenario --quiet --junit "$tmp/names.xml" ./tests/scenarios/../../scenarios/tariff-command-6923.json \
    "$root/scenarios/tariff-command-6924.json" >/dev/null 2>&1
  "$py" - "$tmp/names.xml" "${root#/}" <<'PY' && ok "JUnit suite names: . and .. resolved" || fail "JUnit suite names: $(grep -o 'testsuite name="[^"]*"' "$tmp/names.xml")"
import sys
from junitparser import JUnitXml
names = [s.name for s in JUnitXml.fromfile(sys.argv[1])]
want = ["scenarios.tariff-command-6923", sys.argv[2].replace("/", ".") + ".scenarios.tariff-command-6924"]
assert names == want, (names, want)
PY
  # Outputs that cannot be written: exit 1, the run itself still reported.
  "$sim" scenario --report "$tmp/no/such/dir/r.json" scenarios/tariff-command-6924.json >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" = 1 ] && grep -q -- "--report $tmp/no/such/dir/r.json" "$tmp/err" && grep -q "1 passed" "$tmp/out" &&
    ok "unwritable --report: exit 1" || fail "unwritable --report: exit $rc $(cat "$tmp/err")"
  "$sim" scenario --junit /dev/full scenarios/tariff-command-6924.json >/dev/null 2>"$tmp/err"
  [ $? = 1 ] && ok "--junit on a full disk: exit 1" || fail "--junit /dev/full: $(cat "$tmp/err")"
  # Texts cut by their buffers (a long name, an "eq" text) and an escaped control
  # character stay readable: the three reports parse as UTF-8 XML and JSON.
  "$py" - "$tmp/utf.json" <<'PY'
import json, sys
e = "\u00e9" * 100
json.dump({"name": e, "description": e * 2, "duration": 2,
           "events": [{"at": 1, "do": "caption", "text": "a\u0001b" + e}],
           "expect": [{"at": 1, "lcd": "name", "eq": e, "name": e}]}, open(sys.argv[1], "w"))
PY
  "$sim" scenario --junit "$tmp/utf.xml" --report "$tmp/utf.r.json" --plot "$tmp/utf.svg" "$tmp/utf.json" >/dev/null 2>&1
  rc=$?
  if [ "$rc" = 1 ] && "$py" - "$tmp" <<'PY'
import json, sys, xml.etree.ElementTree as ET
from junitparser import JUnitXml
d = sys.argv[1]
JUnitXml.fromfile(d + "/utf.xml")
ET.parse(d + "/utf.svg")
json.load(open(d + "/utf.r.json", encoding="utf-8"))
PY
  then ok "long non-ASCII texts: JUnit, SVG and JSON reports stay valid"; else fail "non-ASCII texts: exit $rc, a report does not parse"; fi
  # The plot's lane of expectations: no label over another (86 of them, many at a
  # few times: one row each used to wrap after 40). Widths at 6 px a character,
  # less than DejaVu Sans 12 px takes, so an overlap found is a real one.
  "$sim" scenario --plot "$tmp/many.svg" scenarios/modbus-session-6924.json >/dev/null 2>&1
  if "$py" - "$tmp/many.svg" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
rows = {}
for t in ET.parse(sys.argv[1]).iter(ns + "text"):
    if t.get("font-size") != "12" or t.get("fill") not in ("#1a8f3a", "#d42020"):
        continue
    x, w = float(t.get("x")), 6.0 * len(t.text or "")
    x0 = x - w if t.get("text-anchor") == "end" else x
    rows.setdefault(t.get("y"), []).append((x0, x0 + w, t.text))
n = sum(len(r) for r in rows.values())
assert n == 86, n
for y, r in rows.items():
    r.sort()
    for a, b in zip(r, r[1:]):
        assert a[1] <= b[0], f"y={y}: '{a[2]}' runs into '{b[2]}'"
PY
  then ok "the plot's expectation labels do not overlap"; else fail "plot labels overlap"; fi
  # The timeline's labels: a long segment right after short ones keeps its
  # label ("charging", 6 h after 10 min and 1 min, was left out), none over another.
  "$sim" scenario --plot "$tmp/ev.svg" scenarios/ev-charge.json >/dev/null 2>&1
  "$sim" scenario --plot "$tmp/gq.svg" scenarios/grid-quality.json >/dev/null 2>&1
  if "$py" - "$tmp/ev.svg" "$tmp/gq.svg" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
for f, want in zip(sys.argv[1:], (["idle", "charging"], ["steady", "drift to 49.5 Hz", "harmonics"])):
    labels = [(float(t.get("x")), t.text) for t in ET.parse(f).iter(ns + "text")
              if t.get("fill") == "#555" and t.get("font-size") == "12"]
    names = [l[1] for l in labels]
    assert all(w in names for w in want), (f, names)
    labels.sort()
    for a, b in zip(labels, labels[1:]):
        assert a[0] + 6.0 * len(a[1]) <= b[0], f"{f}: '{a[1]}' runs into '{b[1]}'"
PY
  then ok "the plot's timeline labels: long segments labelled, none over another"; else fail "plot timeline labels"; fi
  # A WAV recording as a timeline segment (no sidecar FILE.wav.json: its scales
  # given in the segment): the readings and the energy against its truth, exit
  # 0 and nothing on stderr (the missing sidecar was reported as a host failure).
  "$py" - "$tmp/rec.wav" "$tmp/wav.json" <<'PY'
import json, math, struct, sys, wave
fs, n = 4000, 4000 * 5
w = wave.open(sys.argv[1], "wb")
w.setnchannels(2), w.setsampwidth(2), w.setframerate(fs)
s = lambda x: math.sqrt(2) * math.sin(2 * math.pi * 50 * x / fs)
w.writeframes(b"".join(struct.pack("<hh", round(230 * s(k) / 500 * 32767), round(10 * s(k) / 200 * 32767))
                       for k in range(n)))
w.close()
json.dump({"timeline": [{"duration": 2, "load": "230V,5A"},
                        {"replay": "rec.wav", "v_scale": 500, "i_scale": 200, "label": "recorded"},
                        {"duration": 2}],
           "expect": [{"at": 5, "value": "measure.i", "eq": 10, "tol": 0.05},
                      {"at": 8.5, "value": "measure.i", "eq": 5, "tol": 0.05},
                      {"accuracy": "active_fwd_kwh", "tol_pct": 0.1}]}, open(sys.argv[2], "w"))
PY
  "$sim" scenario --report "$tmp/wav.r.json" "$tmp/wav.json" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" = 0 ] && [ ! -s "$tmp/err" ] && grep -q "1 passed" "$tmp/out" &&
    ok "a WAV replay segment: exit 0, its readings and truth" ||
    fail "WAV segment: exit $rc: $(cat "$tmp/out" "$tmp/err")"
  # Its truth table: no relative error of (almost) nothing (the reactive
  # registers' residues read 1.4e14 %): null under 1 mWh of truth.
  "$py" -c "
import json, sys
t = json.load(open(sys.argv[1]))['scenarios'][0]['truth']
assert abs(t[0]['error_pct']) < 0.1, t[0]
assert all(r['error_pct'] is None or abs(r['error_pct']) < 100 for r in t), t
assert t[2]['error_pct'] is None, t[2]" "$tmp/wav.r.json" && ok "the report's truth table: error_pct null without truth" ||
    fail "the truth table: $(cat "$tmp/wav.r.json" | head -c 300)"
  # A meter from an earlier run's state dir (relative to the scenario): its
  # registers and power-down count at the start; the directory is not changed.
  mkdir -p "$tmp/sd/state"
  "$sim" --headless --state-dir "$tmp/sd/state" --duration 30min --load 230V,10A >/dev/null 2>&1
  sum=$(md5sum <"$tmp/sd/state/eeprom.bin")
  cat >"$tmp/sd/s.json" <<'EOF'
{"meter": {"model": 6924, "state_dir": "state"},
 "timeline": [{"duration": "30min", "load": "230V,10A"}],
 "expect": [{"at": 1, "value": "energy.active_fwd_kwh", "eq": 1.15, "tol": 0.01},
            {"value": "energy.active_fwd_kwh", "eq": 2.3, "tol": 0.01},
            {"value": "power_downs", "eq": 1},
            {"accuracy": "active_fwd_kwh", "tol_pct": 0.05}]}
EOF
  "$sim" scenario "$tmp/sd/s.json" >"$tmp/out" 2>&1 && [ "$(md5sum <"$tmp/sd/state/eeprom.bin")" = "$sum" ] &&
    ok "meter.state_dir: the registers of the earlier run, the directory unchanged" ||
    fail "state_dir: $(cat "$tmp/out")"
  # On a terminal (script(1) gives one), a progress bar on stderr: the file's
  # name (a long path keeps its end), simulated time of the total, speed, ETA;
  # the same bar for a headless run with --duration.
  mkdir -p "$tmp/a-folder-with-a-long-name-for-the-progress-bar"
  cp scenarios/tariff-command-6924.json "$tmp/a-folder-with-a-long-name-for-the-progress-bar/"
  script -qec "'$sim' scenario '$tmp/a-folder-with-a-long-name-for-the-progress-bar/tariff-command-6924.json' >/dev/null" /dev/null >"$tmp/tty" 2>&1
  grep -qE '\.\.\.[^ ]*/tariff-command-6924\.json \[[#.]{20}\] [0-9].* / 6h00m  x[0-9]+  ETA ' "$tmp/tty" &&
    ok "a progress bar on a terminal: the file, time, speed, ETA" || fail "progress bar: $(tr '\r' '\n' <"$tmp/tty" | head -3)"
  script -qec "'$sim' --headless --ephemeral --duration 2h >/dev/null" /dev/null >"$tmp/tty" 2>&1
  grep -qE 'klefr-sim \[[#.]{20}\] [0-9].* / 2h00m  x[0-9]+  ETA ' "$tmp/tty" &&
    ok "the same bar for a headless --duration run" || fail "--duration bar: $(tr '\r' '\n' <"$tmp/tty" | head -3)"
  # The docs' first scenario and first tour, as a new user copies them, pass.
  "$py" - "$tmp" <<'PY'
import re, sys
for doc, head in (("docs/scenarios.md", "## A first scenario"), ("docs/tours.md", "## A first tour")):
    t = open(doc).read()
    m = re.search(r"```json\n(.*?)```", t[t.index(head):], re.S)
    open(sys.argv[1] + "/first-" + doc[5:-3] + ".json", "w").write(re.sub(r'"\$schema": "[^"]*",', "", m.group(1)))
PY
  for f in first-scenarios first-tours; do
    "$sim" scenario "$tmp/$f.json" >"$tmp/out" 2>&1 && ok "docs: the $f example passes" ||
      fail "docs: the $f example: $(head -3 "$tmp/out")"
  done
  # Not a terminal: no progress bar, nothing on stderr.
  "$sim" scenario scenarios/tariff-command-6924.json >/dev/null 2>"$tmp/err"
  [ ! -s "$tmp/err" ] && ok "no progress bar without a terminal" || fail "stderr not empty: $(head -c 200 "$tmp/err")"
  # --trace events shows what happens, when.
  "$sim" scenario --trace events scenarios/tariff-command-6924.json >/dev/null 2>"$tmp/err"
  grep -q "t=3600.000 s: tariff: T2, not saved" "$tmp/err" && grep -q "supply cut" "$tmp/err" &&
    ok "--trace events" || fail "--trace events: $(head -5 "$tmp/err")"
  # --trace modbus shows the serial steps' frames with their names, and only Modbus.
  "$sim" scenario --trace modbus scenarios/modbus-session-6924.json >/dev/null 2>"$tmp/err"
  if grep -qx "modbus: \[read-identity\] master tx 01 03 40 00 00 20 51 D2 (9600 8E1) t=2.000000" "$tmp/err" &&
     grep -q "^modbus: \[read-identity\] master rx 01 03 40 17 06 01 02 69 24 " "$tmp/err" &&
     grep -q "^modbus: \[read-at-9600\] no reply within 500 ms t=" "$tmp/err" &&
     ! grep -qv "^modbus: " "$tmp/err"; then
    ok "--trace modbus: the steps' frames by name"
  else
    fail "--trace modbus: $(grep "read-identity" "$tmp/err" | head -3)"
  fi
}

case "$part" in
library) library "$@" ;;
malformed) malformed ;;
schema) schema "$@" ;;
cli) cli ;;
*) echo "unknown part $part"; exit 2 ;;
esac
echo "$part: $fails failed"
[ "$fails" = 0 ]
