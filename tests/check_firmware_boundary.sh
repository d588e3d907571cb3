#!/usr/bin/env bash
# Fails when firmware-core includes anything but freestanding/libc-core
# headers and its own, allocates memory, or declares globals with storage.
set -u
dir=${1:-firmware-core}
status=0
allowed='^(stdint\.h|stdbool\.h|stddef\.h|string\.h|math\.h|limits\.h|float\.h|klefr/.*|\.\./.*|[a-z_0-9/]+\.h)$'
while IFS= read -r line; do
  file=${line%%:*}; rest=${line#*:}; lineno=${rest%%:*}
  hdr=$(sed -nE 's/^\s*#\s*include\s*[<"]([^>"]+)[>"].*/\1/p' <<<"${rest#*:}")
  [ -z "$hdr" ] && continue
  if [[ "${rest#*:}" =~ \<  ]]; then
    case "$hdr" in stdint.h|stdbool.h|stddef.h|string.h|math.h|limits.h|float.h) ;; *)
      echo "$file:$lineno: host header <$hdr> not allowed in firmware-core"; status=1;; esac
  else
    [ -f "$(dirname "$file")/$hdr" ] || [ -f "$dir/include/$hdr" ] || [ -f "$dir/src/$hdr" ] || {
      echo "$file:$lineno: \"$hdr\" is not a firmware-core header"; status=1; }
  fi
done < <(grep -rnE '^\s*#\s*include' "$dir" --include='*.[ch]')
if grep -rnE '\b(malloc|calloc|realloc|free|printf|fprintf|fopen)\s*\(' "$dir" --include='*.[ch]'; then
  echo "firmware-core: allocation or stdio call found"; status=1
fi
# File-scope mutable variables ("globals"): a line at column 0 that declares a
# non-const, non-function object.
if grep -rnE '^(static\s+)?(unsigned\s+|signed\s+)?(int|char|uint[0-9]+_t|int[0-9]+_t|bool|float|double|klefr_[a-z_]+)\s+[a-zA-Z_][a-zA-Z_0-9]*(\[[^]]*\])?\s*(=|;)' "$dir" --include='*.c'; then
  echo "firmware-core: mutable file-scope variable found (use the context struct)"; status=1
fi
[ $status -eq 0 ] && echo "firmware-core boundary: ok"
exit $status
