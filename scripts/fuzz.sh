#!/usr/bin/env bash
# Fuzzing campaign: every libFuzzer target of fuzz/meson.build for SECONDS
# each (default 600), in the clang build with ASan + UBSan (<build>-san,
# configured with -Dfuzz=true if missing). Corpora grow in <build>-san/
# fuzz-work/NAME across campaigns; a crash or hang is copied to
# <build>-san/fuzz-work/findings/. Prints one markdown row per target for
# docs/reliability.md.
#   scripts/fuzz.sh [SECONDS] [NAME...]      KLEFR_FUZZ_JOBS=2: two at a time
# KLEFR_FUZZ_RUNS=N ends a target after N inputs (SECONDS still caps it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-600}
shift || true
build=${KLEFR_BUILD:-$root/build}-san
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (scripts/deps.sh --test installs it)"; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$root" -Dfuzz=true -Db_lundef=false >/dev/null
fi
ninja -C "$build" >/dev/null
work=$build/fuzz-work
mkdir -p "$work/findings"

# The targets, their options and seeds, from the meson tests (one table:
# fuzz/meson.build): run_target.sh EXE [-options...] SEED...
mapfile -t rows < <(meson introspect "$build" --tests | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if t["name"].startswith("fuzz-"):
        cmd = t["cmd"]
        opts = [o for o in cmd[2:] if o.startswith(("-dict=", "-max_len="))]
        seeds = [o for o in cmd[2:] if not o.startswith("-")]
        print(t["name"][5:], os.path.join(sys.argv[1], cmd[1]), ",".join(seeds), " ".join(opts))' "$build")
want=" $* "
run_one() { # name exe seeds(comma-separated) opts...
  local name=$1 exe=$2 seeds=() dirs=() files=() s
  IFS=, read -ra seeds <<<"$3"
  shift 3
  for s in "${seeds[@]}"; do
    if [ -d "$s" ]; then dirs+=("$s"); else files+=("$s"); fi
  done
  [ ${#files[@]} = 0 ] || set -- "$@" "-seed_inputs=$(IFS=,; echo "${files[*]}")"
  [ -z "${KLEFR_FUZZ_RUNS:-}" ] || set -- "$@" "-runs=$KLEFR_FUZZ_RUNS"
  mkdir -p "$work/$name"
  local log=$work/$name.log
  (cd "$work/findings" && "$exe" "$@" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
     -print_final_stats=1 -artifact_prefix="$work/findings/$name-" "$work/$name" "${dirs[@]}" \
     >"$log" 2>&1) || true
  python3 - "$name" "$log" "$secs" "$work/$name" <<'PY'
import os, re, sys
name, log, secs, corpus = sys.argv[1:5]
text = open(log, errors="replace").read()
stat = dict(re.findall(r"^stat::(\w+):\s+(\d+)", text, re.M))
edges = re.search(r"Loaded \d+ modules\s+\((\d+) inline 8-bit counters\)", text)
cov = re.findall(r"cov: (\d+) ft: (\d+)", text)
found = re.findall(r"^(==\d+==ERROR: \w+: [^\n]*|fuzz invariant failed: [^\n]*|SUMMARY: [^\n]*)", text, re.M)
n = len(os.listdir(corpus))
execs = int(stat.get("number_of_executed_units", 0))
print("| %s | %s | %s | %s | %s / %s | %s | %d | %s |" % (
    name, secs, format(execs, ","), stat.get("average_exec_per_sec", "?"),
    cov[-1][0] if cov else "?", edges.group(1) if edges else "?", cov[-1][1] if cov else "?", n,
    "; ".join(sorted(set(found))) or "none"))
PY
}
echo "| target | s | inputs run | inputs/s | edges covered / instrumented | features | corpus | findings |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
jobs=${KLEFR_FUZZ_JOBS:-1}
for row in "${rows[@]}"; do
  read -r name exe seeds opts <<<"$row"
  [ "$want" = "  " ] || [[ "$want" == *" $name "* ]] || continue
  # shellcheck disable=SC2086
  run_one "$name" "$exe" "$seeds" $opts &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait
ls "$work/findings" | grep -q . && echo "findings in $work/findings" || true
