#!/usr/bin/env bash
# klefr-sim bench-accuracy: the test bench report (manual 5.2, influence
# tests) passes on this firmware and its three files are well formed: the
# Markdown tables, JSON with every point, an SVG that parses as XML.
# usage: check_bench_accuracy.sh KLEFR_SIM
set -uo pipefail
sim=$1
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

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
exit $((fails > 0))
