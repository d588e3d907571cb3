#!/usr/bin/env bash
# Builds a release build (LTO, profile-guided) in build-bench/ (or
# $KLEFR_BENCH_BUILD) and runs klefr-bench: simulated seconds per wall second
# of the full twin against a bare loop of the same per-sample arithmetic.
# Options go to klefr-bench.
# Profile-guided (GCC's -fprofile-use through meson's b_pgo): an instrumented
# build first runs a training set — two scenarios of scenarios/ by klefr-sim
# and one short klefr-bench run — then the build is made again with that
# profile (docs/performance.md: 3-6 % on the full twin). The profile is taken
# again whenever the sources changed, since a stale one is refused.
# KLEFR_BENCH_PGO=0: release + LTO only (the figures without the profile).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KLEFR_BENCH_BUILD:-$root/build-bench}
pgo=${KLEFR_BENCH_PGO:-1}
# Release with link-time optimisation: the ticks and the slice's calls across
# modules inline (about 7 % on the full twin, docs/performance.md).
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$root" --buildtype=release -Db_lto=true -Db_pgo=off >/dev/null
fi
if [ "$pgo" = 0 ]; then
  meson configure "$build" -Db_lto=true -Db_pgo=off >/dev/null
  ninja -C "$build" src/klefr-bench >/dev/null
  exec "$build/src/klefr-bench" "$@"
fi
# The sources the profile was taken from: the tree's files, hashed.
stamp=$(cd "$root" && find firmware-core sim src scenarios meson.build meson_options.txt \
          -type f \( -name '*.[ch]' -o -name '*.json' -o -name meson.build -o -name '*.txt' \) \
          -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1)
if [ "$(cat "$build/pgo-stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "bench: taking the profile (instrumented build, training run)" >&2
  find "$build" -name '*.gcda' -delete
  meson configure "$build" -Db_lto=true -Db_pgo=generate >/dev/null
  ninja -C "$build" src/klefr-bench src/klefr-sim >/dev/null
  train=$(mktemp -d)
  trap 'rm -rf "$train"' EXIT
  for s in household-day grid-quality; do
    KLEFR_STATE_DIR=$train "$build/src/klefr-sim" scenario "$root/scenarios/$s.json" >/dev/null
  done
  "$build/src/klefr-bench" --runs 1 --seconds 600 >/dev/null
  meson configure "$build" -Db_pgo=use >/dev/null
  echo "$stamp" > "$build/pgo-stamp"
fi
meson configure "$build" -Db_lto=true -Db_pgo=use >/dev/null
# (Files the training never ran have no profile: GCC warns, not an error.)
if ! out=$(ninja -C "$build" src/klefr-bench 2>&1); then
  echo "$out" >&2
  exit 1
fi
exec "$build/src/klefr-bench" "$@"
