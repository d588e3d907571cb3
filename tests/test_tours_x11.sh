#!/usr/bin/env bash
# Guided tours in a real window (run under xvfb-run -a; docs/tours.md):
#   steps K M  the tours of scenarios/tours/ (every M-th from the K-th; all: 0 1)
#            in step mode at full speed, driven by
#            xdotool: Space at each caption; after each step the LCD line the
#            window prints equals the headless run's, and the end closes on Space
#   controls Back (PgUp) at a caption restarts the step before from its snapshot:
#            it plays again to the same LCD; --play runs every step on its own;
#            Q in the middle stops the tour (exit 0, where it stopped)
#   record   a session pressed with xdotool under --record plays back as a
#            scenario to the same LCD states (its LCD checks pass)
#   projector  on a 1024 x 768 screen the window opens within it
# usage: test_tours_x11.sh KLEFR_SIM SOURCE_ROOT PART [K M]
set -uo pipefail
py=/usr/bin/python3
sim=$1
root=$2
part=$3
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
cd "$root" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
if ! command -v xdotool >/dev/null || [ -z "${DISPLAY:-}" ]; then
  echo "skipped: needs xdotool and an X display (xvfb-run)"
  exit 77
fi

# The window of process $1 (its title starts with KLEFR; one at a time), within 90 s (SDL and Xvfb start slowly on a loaded machine).
window_of() {
  local w
  for _ in $(seq 900); do
    w=$(xdotool search --onlyvisible --name '^KLEFR' 2>/dev/null | head -1)
    [ -n "$w" ] && { echo "$w"; return 0; }
    kill -0 "$1" 2>/dev/null || { echo "(the process ended)"; return 1; }
    sleep 0.1
  done
  echo "(none after 90 s; windows: $(xdotool search --name . 2>/dev/null | wc -l))"
  return 1
}

# A key to the focused window (play focuses it once: a process each key is slow).
key() { xdotool key "$2" >/dev/null 2>&1; }

# Wait until file $1 has $2 lines matching $3 (60 s).
wait_lines() {
  for _ in $(seq 3000); do
    [ "$(grep -c "$3" "$1")" -ge "$2" ] && return 0
    sleep 0.02
  done
  return 1
}

# The step lines ("step K/N t=T s: LCD") of a run.
steps_of() { grep -E '^step [0-9]+/[0-9]+ t=' "$1"; }

# Play tour $1 in the window; keys: a list of "space" / "Prior" sent one per
# step line expected; writes the window's output to $2.
play() {
  local f=$1 out=$2 n
  shift 2
  "$sim" tour --speed max "$f" >"$out" 2>"$out.err" &
  local pid=$!
  pids+=("$pid")
  local w
  w=$(window_of "$pid") || { fail "$f: no window $w: $(cat "$out.err")"; kill "$pid"; return 1; }
  xdotool windowfocus --sync "$w" >/dev/null 2>&1
  local lines=0
  for k in "$@"; do
    case "$k" in
    space)
      lines=$((lines + 1))
      key "$w" space
      wait_lines "$out" "$lines" '^step [0-9]*/' || { fail "$f: no line $lines after Space: $(tail -2 "$out")"; kill "$pid"; return 1; } ;;
    *) key "$w" "$k"; sleep 0.3 ;;
    esac
  done
  wait_lines "$out" 1 ' checks held$' || { fail "$f: no end: $(tail -2 "$out")"; kill "$pid"; return 1; }
  key "$w" space # "The end of the tour": Next closes the window
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then fail "$f: the window stays after the end"; kill "$pid"; fi
  wait "$pid"
  local rc=$?
  [ "$rc" = 0 ] || fail "$f: the window's exit status $rc: $(tail -3 "$out") $(cat "$out.err")"
  return "$rc"
}

# steps K M: the tours whose index is K modulo M (meson runs the parts side by side).
steps() {
  local t0=$SECONDS part=${1:-0} parts=${2:-1} i=-1
  for f in scenarios/tours/*.json; do
    i=$((i + 1))
    [ $((i % parts)) = "$part" ] || continue
    name=$(basename "$f" .json)
    "$sim" tour --headless "$f" >"$tmp/$name.headless" 2>&1
    n=$(steps_of "$tmp/$name.headless" | wc -l)
    keys=()
    for _ in $(seq "$n"); do keys+=(space); done
    play "$f" "$tmp/$name.window" "${keys[@]}" || continue
    if diff <(steps_of "$tmp/$name.headless") <(steps_of "$tmp/$name.window") >"$tmp/diff"; then
      ok "$name: $n steps in the window, each LCD as headless"
    else
      fail "$name: window and headless differ: $(head -6 "$tmp/diff")"
    fi
    # Next came with meter time where the step before ended (nothing of the
    # step ran while its caption waited).
    if "$py" - "$tmp/$name.window" <<'PY'
import re, sys
end, bad = {1: 1.0}, []
for line in open(sys.argv[1]):
    m = re.match(r"(step|next) (\d+)/\d+ t=([\d.]+) s", line)
    if not m:
        continue
    k, t = int(m.group(2)), float(m.group(3))
    if m.group(1) == "step":
        end[k + 1] = t
    elif k in end and abs(end[k] - t) > 1e-6:
        bad.append((k, t, end[k]))
sys.exit(bool(bad) and print(bad) is None)
PY
    then ok "$name: every Next came at its step's start"; else fail "$name: a step ran before its Next"; fi
    grep -q "^$n steps; \([0-9]*\) of \1 checks held$" "$tmp/$name.window" &&
      ok "$name: every check held in the window" || fail "$name: $(tail -1 "$tmp/$name.window")"
  done
  echo "steps $part/$parts: $((SECONDS - t0)) s"
}

controls() {
  f=scenarios/tours/s0-rate.json
  "$sim" tour --headless "$f" >"$tmp/h" 2>&1
  # steps 1 and 2, then Back at step 3's caption: step 2 again, then on.
  play "$f" "$tmp/w" space space Prior space space space space space || return
  steps_of "$tmp/h" | sed -n '1,2p;2p;3,$p' >"$tmp/want"
  if diff "$tmp/want" <(steps_of "$tmp/w") >"$tmp/diff"; then
    ok "Back replays step 2 from its snapshot to the same LCD"
  else
    fail "Back: $(cat "$tmp/diff")"
  fi
  # --play: every step without a key, then the end waits for Next.
  "$sim" tour --play --speed max "$f" >"$tmp/p" 2>"$tmp/p.err" &
  pid=$!
  pids+=("$pid")
  if w=$(window_of "$pid") && xdotool windowfocus --sync "$w" >/dev/null 2>&1 &&
     wait_lines "$tmp/p" 1 ' checks held$'; then
    key "$w" space
    wait "$pid"
    cmp -s <(steps_of "$tmp/h") <(steps_of "$tmp/p") && ok "--play runs every step on its own" ||
      fail "--play: $(diff <(steps_of "$tmp/h") <(steps_of "$tmp/p") | head -4)"
  else
    fail "--play: $(tail -2 "$tmp/p") $(cat "$tmp/p.err")"
  fi
  # Q in the middle: the window closes, the tour says where it stopped.
  "$sim" tour --speed max "$f" >"$tmp/q" 2>"$tmp/q.err" &
  pid=$!
  pids+=("$pid")
  if w=$(window_of "$pid") && xdotool windowfocus --sync "$w" >/dev/null 2>&1; then
    key "$w" space
    wait_lines "$tmp/q" 1 '^step 1/'
    key "$w" q
    wait "$pid"
    rc=$?
    [ "$rc" = 0 ] && grep -q "^tour stopped at step 2/6$" "$tmp/q" && ok "Q stops the tour: exit 0, where it stopped" ||
      fail "Q: exit $rc: $(tail -2 "$tmp/q") $(cat "$tmp/q.err")"
  else
    fail "Q: no window"
  fi
}

# A Space while a step plays (at 1x, step 1 takes 5 s) does nothing: the
# window prints no "next" line for it, and step 2's caption still waits.
next_mid_step() {
  f=$tmp/mid.json # the first caption at once, not after 1 s at 1x
  "$py" -c "import json,sys; j=json.load(open(sys.argv[1])); j['tour']['start']=0.01; json.dump(j,open(sys.argv[2],'w'))" \
    scenarios/tours/s0-rate.json "$f"
  "$sim" tour --speed 1 "$f" >"$tmp/m" 2>"$tmp/m.err" &
  pid=$!
  pids+=("$pid")
  if w=$(window_of "$pid") && xdotool windowfocus --sync "$w" >/dev/null 2>&1; then
    sleep 0.5
    key "$w" space
    wait_lines "$tmp/m" 1 '^next 1/' || fail "Space mid-step: the first Space did not start step 1"
    sleep 1
    key "$w" space
    wait_lines "$tmp/m" 1 '^step 1/'
    sleep 0.5
    key "$w" q
    wait "$pid"
    [ "$(grep -c '^next ' "$tmp/m")" = 1 ] && grep -q "^tour stopped at step 2/6$" "$tmp/m" &&
      ok "a Space while a step plays prints nothing and skips nothing" ||
      fail "Space mid-step: $(grep -E '^(next|step|tour)' "$tmp/m" | tr '\n' ' ')"
  else
    fail "Space mid-step: no window"
  fi
}

record() {
  rec=$tmp/rec.json
  "$sim" --model 6924 --ephemeral --record "$rec" --speed 2 >"$tmp/r.out" 2>"$tmp/r.err" &
  pid=$!
  pids+=("$pid")
  w=$(window_of "$pid") || { fail "record: no window $w: $(cat "$tmp/r.err")"; return; }
  xdotool windowfocus --sync "$w" >/dev/null 2>&1
  sleep 0.3
  # At 2x: five short presses (the right arrow) to program mode 1, the right
  # button held 5.6 s of meter time (its sub-menu), the left one 3.6 s (back).
  for _ in 1 2 3 4 5; do
    xdotool keydown Right; sleep 0.15; xdotool keyup Right; sleep 0.3
  done
  xdotool keydown Right; sleep 2.8; xdotool keyup Right; sleep 0.4
  xdotool keydown Left; sleep 1.8; xdotool keyup Left; sleep 0.4
  key "$w" q
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  wait "$pid"
  # The session got where the presses went: program mode 1's sub-menu and back.
  grep -q 'SERIAL NO' "$rec" && grep -q 'PROG MODE1' "$rec" &&
    ok "the recording saw program mode 1 and its sub-menu" || fail "record: not where the presses went: $(grep -o '"eq": "[^"]*"' "$rec" | tr '\n' ' ')"
  [ -s "$rec" ] || { fail "record: nothing written: $(cat "$tmp/r.err")"; return; }
  presses=$(grep -c '"press"' "$rec")
  lcds=$(grep -c '"lcd"' "$rec")
  if "$sim" scenario "$rec" >"$tmp/p.out" 2>&1; then
    ok "the recorded session ($presses presses, $lcds LCD checks) plays back to the same LCD states"
  else
    fail "record: playback: $(cat "$tmp/p.out" | head -8)"
  fi
  [ "$presses" -ge 7 ] && [ "$lcds" -ge 7 ] && ok "every press recorded with its LCD" ||
    fail "record: $presses presses, $lcds LCD checks: $(head -c 600 "$rec")"
}

# On a projector's screen (run under a 1024 x 768 Xvfb): the window opens
# within it, the whole meter and the controls on screen (it opened at 1120
# wide, 48 px cut off each side). Q closes it.
projector() {
  read -r sw sh < <(xdotool getdisplaygeometry)
  "$sim" tour --layout present scenarios/tours/s0-rate.json >"$tmp/pr" 2>"$tmp/pr.err" &
  pid=$!
  pids+=("$pid")
  w=$(window_of "$pid") || { fail "projector: no window $w: $(cat "$tmp/pr.err")"; return; }
  sleep 0.5
  eval "$(xdotool getwindowgeometry --shell "$w")"
  if [ "$X" -ge 0 ] && [ "$Y" -ge 0 ] && [ $((X + WIDTH)) -le "$sw" ] && [ $((Y + HEIGHT)) -le "$sh" ]; then
    ok "the window fits a ${sw}x${sh} screen (${WIDTH}x${HEIGHT} at $X,$Y)"
  else
    fail "the window ${WIDTH}x${HEIGHT} at $X,$Y is outside the ${sw}x${sh} screen"
  fi
  xdotool windowfocus --sync "$w" >/dev/null 2>&1
  key "$w" q
  wait "$pid"
}

case "$part" in
steps) steps "${4:-0}" "${5:-1}" ;;
projector) projector ;;
controls) controls; next_mid_step ;;
record) record ;;
*) echo "unknown part $part"; exit 2 ;;
esac
echo "$part: $fails failed"
[ "$fails" = 0 ]
