#!/usr/bin/env bash
# One fuzz target, briefly (meson test --suite fuzz): every seed of its corpus
# must pass, then a few seconds of fuzzing from those seeds in a scratch
# corpus. usage: run_target.sh EXE CORPUS_DIR [libFuzzer options...]
set -euo pipefail
exe=$(realpath "$1") corpus=$(realpath "$2")
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" # crash-* files land here, printed below
"$exe" -runs=0 "$corpus" 2>"$work/seeds.log" || { tail -30 "$work/seeds.log"; exit 1; }
mkdir "$work/corpus"
rc=0
"$exe" "$@" "$work/corpus" "$corpus" 2>"$work/run.log" || rc=$?
grep -E "^stat::|^#[0-9]+.*(DONE|pulse)" "$work/run.log" | tail -12 || true
if [ "$rc" != 0 ]; then
  tail -40 "$work/run.log"
  for f in "$work"/crash-* "$work"/timeout-* "$work"/leak-* "$work"/oom-*; do
    # the whole input, to put into the corpus as regress-* (base64 -d)
    [ -e "$f" ] && { echo "input $(basename "$f") (base64):"; base64 "$f" | head -300; }
  done
  exit 1
fi
