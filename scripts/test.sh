#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then `meson test`.
# Extra arguments go to `meson test` (e.g. a test name, --repeat 3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" --test
"$root/scripts/build.sh"
build=${KLEFR_BUILD:-$root/build}
rc=0
meson test -C "$build" --print-errorlogs "$@" || rc=$?
# One plain closing line for CI: "N passed, N failed, N skipped".
python3 - "$build/meson-logs/testlog.json" <<'PY' || true
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP": skip += 1
    else: bad += 1
print(f"{ok} passed, {bad} failed, {skip} skipped")
PY
exit $rc
