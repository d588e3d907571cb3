#!/usr/bin/env bash
# The firmware builds for the meter's MCU: every firmware-core source compiled
# by clang for a 32-bit Cortex-M4 (thumbv7em, no x86, 32-bit long and size_t),
# plain C11 (-std=c11 -pedantic), freestanding, against a bare-metal C
# library's headers only (tests/mcu_libc: string.h, math.h; the compiler's
# own stdint.h etc.), no host headers, warnings as errors. No intrinsics, no
# GCC-only attribute unguarded: the host build's per-width cloning of the DSP
# (KLEFR_SIMD_CLONES) is not defined here, as on the MCU. Objects only (the
# MCU's libc is not linked). Skips (77) without clang or its ARM target.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cc=${CLANG:-clang}
command -v "$cc" >/dev/null || { echo "SKIP: clang not installed (scripts/deps.sh --test installs it)"; exit 77; }
target=(--target=thumbv7em-none-eabihf -mcpu=cortex-m4 -mfloat-abi=hard)
echo 'int x;' | "$cc" "${target[@]}" -x c -c -o /dev/null - 2>/dev/null ||
  { echo "SKIP: $cc has no ARM target"; exit 77; }
res=$("$cc" -print-resource-dir)/include
mapfile -t files < <(find "$root/firmware-core" -name '*.c' | sort)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# one compiler run for all files (objects into a temporary directory)
if (cd "$out" && "$cc" "${target[@]}" -std=c11 -pedantic -Wall -Wextra -Werror -ffreestanding \
      -nostdinc -isystem "$res" -isystem "$root/tests/mcu_libc" \
      -I "$root/firmware-core/include" -I "$root/firmware-core/src" -O2 -c "${files[@]}"); then
  echo "firmware-core builds for Cortex-M4 (clang, C11, freestanding): ${#files[@]} files ok"
  exit 0
fi
echo "firmware-core: does not build for the MCU (above)"
exit 1
