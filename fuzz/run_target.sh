#!/usr/bin/env bash
# One libFuzzer target, briefly (meson test --suite fuzz): every seed must
# pass, then the fixed runs of new inputs from those seeds in a scratch
# corpus. usage: run_target.sh EXE [-libFuzzer options...] SEED...
# (a SEED is a corpus directory or one file).
set -euo pipefail
exe=$(realpath "$1")
shift
opts=() dirs=() files=()
for a in "$@"; do
  case $a in
    -*) opts+=("$a") ;;
    *) if [ -d "$a" ]; then dirs+=("$(realpath "$a")"); else files+=("$(realpath "$a")"); fi ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" # crash-* files land here, printed below
# Every seed on its own (files mode: each runs once, whatever it does).
mapfile -t seeds < <(find "${dirs[@]}" -type f | sort)
"$exe" "${seeds[@]}" "${files[@]}" >"$work/seeds.log" 2>&1 || { tail -30 "$work/seeds.log"; exit 1; }
mkdir "$work/corpus"
extra=()
if [ ${#files[@]} -gt 0 ]; then
  (IFS=,; echo "${files[*]}") >"$work/seed-files"
  extra=("-seed_inputs=@$work/seed-files")
fi
rc=0
"$exe" "${opts[@]}" "${extra[@]}" "$work/corpus" "${dirs[@]}" 2>"$work/run.log" || rc=$?
grep -E "^stat::|^#[0-9]+.*(DONE|pulse)" "$work/run.log" | tail -12 || true
if [ "$rc" != 0 ]; then
  tail -40 "$work/run.log"
  for f in "$work"/crash-* "$work"/timeout-* "$work"/leak-* "$work"/oom-*; do
    # the whole input, to put into the corpus as regress-* (base64 -d)
    [ -e "$f" ] && { echo "input $(basename "$f") (base64):"; base64 "$f" | head -300; }
  done
  exit 1
fi
