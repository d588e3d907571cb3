#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then `meson test`.
# Extra arguments go to `meson test` (e.g. a test name, --repeat 3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" --test
build=${KLEFR_BUILD:-$root/build}
# A build configured before the npm masters came (scripts/build.sh, run.sh)
# would skip libmbus's tools for good: meson looks for their sources when it
# configures.
if [ -f "$build/build.ninja" ] && [ "$root/tests/node/node_modules/.klefr-installed" -nt "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" "$root" >/dev/null
fi
"$root/scripts/build.sh"
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
