#!/usr/bin/env bash
# klefr-sim and ADC overload: a synthetic load beyond full scale is counted
# (clipped_samples in the JSON) and warned about once on stderr; one inside
# the range is neither. usage: check_clipping_cli.sh KLEFR_SIM
set -uo pipefail
sim=$1
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# A rectifier current: odd harmonics peaking with the fundamental (crest factor 2.95).
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
exit $((fails > 0))
