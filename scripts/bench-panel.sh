#!/usr/bin/env bash
# Measures what the front panel costs: frames per second and the CPU time of
# the klefr-sim process (utime + stime from /proc/PID/stat) over a window of
# wall time, in a real X11 window under Xvfb and with SDL's offscreen driver,
# at 1x with no load (only the clock changes, once a second), with a steady
# 10 A load (the scope's picture repeats; readings, LED and clock change)
# and with noise on it (the scope changes every slice), at 10x, in the
# presentation layout, and paused (nothing changes). Under Xvfb the X
# server's own CPU time over the same window is printed too (it copies the
# pixels the panel sends). Prints one table; figures go in docs/performance.md.
#
#   scripts/bench-panel.sh [SECONDS (default 10)] [WARMUP (default 3)] [CASE...]
#
# CASE names a row below (default all). KLEFR_SIM=path measures another
# build of klefr-sim (e.g. the one before a change; it may lack the options
# of the paused and presentation rows).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
warm=${2:-3}
shift 2 2>/dev/null || shift $#
only=" $* "
if [ -z "${KLEFR_SIM:-}" ]; then
  "$root/scripts/build.sh" >&2
fi
build=${KLEFR_BUILD:-$root/build}
sim=${KLEFR_SIM:-$build/src/klefr-sim}
tck=$(getconf CLK_TCK)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# utime + stime of a pid, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# the last "stats" line the panel printed: wall_s frames upload_px
last_stats() {
  grep 'klefr-panel: stats' "$1" | tail -1 |
    sed -E 's/.*wall_s=([0-9.]+) frames=([0-9]+) upload_px=([0-9]+)( renders=([0-9]+))?.*/\1 \2 \3 \5/'
}
# the Xvfb started under xvfb-run (a descendant of pid $1), if any
xvfb_of() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = Xvfb ] || continue
    local q=${p#/proc/}
    while [ "$q" -gt 1 ]; do
      [ "$q" = "$1" ] && { echo "${p#/proc/}"; return; }
      q=$(awk '{print $4}' "/proc/$q/stat" 2>/dev/null || echo 1)
    done
  done
}

# One case: NAME DRIVER(x11|offscreen) klefr-sim options...
run_case() {
  local name=$1 driver=$2
  shift 2
  [ "$only" = "  " ] || [[ "$only" == *" $name "* ]] || return 0
  local err="$tmp/$name.err" outer
  if [ "$driver" = x11 ]; then
    KLEFR_PANEL_STATS=1 xvfb-run -a -s "-screen 0 1400x1000x24 -noreset" \
      "$sim" --ephemeral "$@" >/dev/null 2>"$err" &
  else
    KLEFR_PANEL_STATS=1 SDL_VIDEODRIVER=offscreen "$sim" --ephemeral "$@" >/dev/null 2>"$err" &
  fi
  outer=$!
  local pid="" x=""
  for _ in $(seq 100); do # find klefr-sim (a child of xvfb-run under X)
    pid=$(pgrep -n -P "$outer" -x klefr-sim || true)
    [ "$driver" = offscreen ] && pid=$outer
    [ -n "$pid" ] && break
    sleep 0.1
  done
  [ "$driver" = x11 ] && x=$(xvfb_of "$outer")
  sleep "$warm"
  local c0 x0 s0 c1 x1 s1
  c0=$(cpu_ticks "$pid"); s0=$(last_stats "$err")
  x0=0; [ -n "$x" ] && x0=$(cpu_ticks "$x")
  sleep "$secs"
  c1=$(cpu_ticks "$pid"); s1=$(last_stats "$err")
  x1=0; [ -n "$x" ] && x1=$(cpu_ticks "$x")
  kill -TERM "$pid" 2>/dev/null || true
  wait "$outer" 2>/dev/null || true
  python3 - "$name" "$secs" "$tck" "$c0" "$c1" "$x0" "$x1" "$s0" "$s1" "${x:+x}" <<'PY'
import sys
name, secs, tck, c0, c1, x0, x1, s0, s1, hasx = sys.argv[1:11]
secs, tck = float(secs), float(tck)
cpu = (float(c1) - float(c0)) / tck / secs * 100
a, b = s0.split(), s1.split()
dt = float(b[0]) - float(a[0])
rate = lambda k: (float(b[k]) - float(a[k])) / dt if dt > 0 and len(a) > k else float("nan")
drawn = rate(3) if len(a) > 3 else rate(1)  # builds without renders= draw every frame they show
xs = f"{(float(x1) - float(x0)) / tck / secs * 100:6.1f} %" if hasx else "     -"
print(f"| {name:<22} | {drawn:5.1f} | {rate(1):5.1f} | {cpu:6.1f} % | {xs} | {rate(2) / 1e6:7.2f} |")
PY
}

echo "klefr-sim panel, ${secs} s after ${warm} s of warm-up, $(nproc) cores, $(date -I)"
echo
echo "frames/s: drawn = frames made (60 while the meter runs), shown = the ones with a change"
echo "sent to the screen; Mpx/s: pixels sent to the screen (texture or window surface)."
echo
echo "| case                   | drawn/s | shown/s | klefr-sim CPU | Xvfb CPU | Mpx sent/s |"
echo "|---|---:|---:|---:|---:|---:|"
steady=230V,10A,pf=0.8L              # the scope's picture repeats: little changes
busy=230V,10A,pf=0.8L,noise=2/0.05   # noise: the scope changes every frame
run_case x11-1x-no-load x11 --model 6924 --load 230V,0A --speed 1
run_case x11-1x-steady x11 --model 6924 --load "$steady" --speed 1
run_case x11-1x-busy x11 --model 6924 --load "$busy" --speed 1
run_case x11-10x-busy x11 --model 6924 --load "$busy" --speed 10
run_case x11-present-1x-busy x11 --model 6924 --load "$busy" --speed 1 --layout present
run_case x11-paused x11 --model 6924 --load "$busy" --speed paused
run_case offscreen-1x-busy offscreen --model 6924 --load "$busy" --speed 1
run_case offscreen-paused offscreen --model 6924 --load "$busy" --speed paused
