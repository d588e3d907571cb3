#!/usr/bin/env bash
# Configures (once) and builds into build/ (or $KLEFR_BUILD). Quiet when up to date.
# scripts/build.sh san: the sanitizer build <build>-san instead: clang with
# -Dfuzz=true (ASan + UBSan everywhere, the libFuzzer targets), or, without
# clang, the compiler's -Db_sanitize=address,undefined (docs/reliability.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KLEFR_BUILD:-$root/build}
args=()
[ "${CI:-}" = "true" ] && args+=(-Dwerror=true)
if [ "${1:-}" = san ]; then
  build=$build-san
  args+=(-Db_lundef=false -Dfuzz=true)
  if command -v clang >/dev/null; then
    export CC=clang
  else
    args+=(-Db_sanitize=address,undefined)
  fi
fi
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$root" "${args[@]}" >/dev/null
fi
ninja -C "$build" >/dev/null
