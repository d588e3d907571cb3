#!/usr/bin/env bash
# klefr-sim --lcd-text --press: the LCD cycle time procedure (manual 7.6.2)
# driven from the command line ends with "OK" and the new value.
set -euo pipefail
sim=$1
out=$("$sim" --headless --ephemeral --model 6924 --lcd-text --duration 20 \
  --press L@1,L@2,L@3,R@4+3.2,R@8+5.2,R@14,B@15+3.2)
echo "$out"
grep -qx 'lcd 0.000 FW kWh | 0.00 | TOTAL' <<<"$out"
grep -q '^lcd [0-9.]* FW << | 10 | SEC$' <<<"$out"
grep -q '^lcd [0-9.]* FW | 11 | OK$' <<<"$out"
grep -q '^backlight 1.000 on$' <<<"$out"
if "$sim" --headless --ephemeral --press X@1 --duration 0.1 2>/dev/null; then
  echo "a bad --press spec was accepted"; exit 1
fi
echo "lcd-text cli: ok"
