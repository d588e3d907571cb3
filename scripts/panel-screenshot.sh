#!/usr/bin/env bash
# Regenerates docs/img/panel.png: the panel in a real (virtual) window after
# a few seconds of meter time. Needs xvfb-run; builds first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" >&2
build=${KLEFR_BUILD:-$root/build}
mkdir -p "$root/docs/img"
xvfb-run -a -s "-screen 0 1400x1000x24" \
  "$build/src/klefr-sim" --model "${1:-6924}" --duration "${2:-6}" --screenshot "$root/docs/img/panel.png"
echo "wrote docs/img/panel.png"
