#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then `meson test`.
# In CI (CI=true), or with KLEFR_SANITIZE=1, the suite runs a second time in
# the sanitizer build (ASan + UBSan, scripts/build.sh san; all but the tests
# of suite slow), which also runs each fuzz target briefly on its seeds. Extra arguments go to
# `meson test` (e.g. a test name, --repeat 3).
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
logs=("$build/meson-logs/testlog.json")
sanitize=${KLEFR_SANITIZE:-${CI:-}}
if [ "$sanitize" = 1 ] || [ "$sanitize" = true ]; then
  echo "== the suite again under ASan + UBSan ($build-san)"
  "$root/scripts/build.sh" san
  # ASan makes everything ~3x slower: Check's and meson's timeouts follow,
  # and the tests that simulate hours or days (suite slow: the soak, the long
  # scenarios; the same code as the short ones) are left out.
  CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-4} \
    meson test -C "$build-san" --no-suite slow --timeout-multiplier 3 --print-errorlogs "$@" ||
    rc=$?
  logs+=("$build-san/meson-logs/testlog.json")
fi
# One plain closing line for CI: "N passed, N failed, N skipped".
python3 - "${logs[@]}" <<'PY' || true
import json, sys
ok = bad = skip = 0
for log in sys.argv[1:]:
    for line in open(log):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"): ok += 1
        elif r == "SKIP": skip += 1
        else: bad += 1
print(f"{ok} passed, {bad} failed, {skip} skipped")
PY
exit $rc
