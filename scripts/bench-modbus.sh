#!/usr/bin/env bash
# Modbus throughput over a pty: a libmodbus master (tests/mb_client.c) reads
# 44 registers in a loop for SECONDS against, in the same run,
#   1. klefr-sim --model 6924, with the serial line's timing off (default: the
#      request reaches the firmware and the reply the pty as soon as the bytes
#      are there) or on (--line-timing on: every character takes its time on
#      the wire at 9600 8E1, as on a real line),
#   2. a pymodbus 3.0 RTU serial server serving 44 registers,
#   3. a do-nothing C responder answering from a precomputed buffer (the
#      transport ceiling).
# Rounds are interleaved, the order of the three rotating from round to round
# (on a shared machine, whoever runs first in a round would otherwise meet
# the same neighbours); the medians of the rounds are printed as a markdown
# table for docs/performance.md, with the median of the per-round ratios.
# --compare BINARY adds a fourth slave to every round: another klefr-sim
# build (say main's, before a change) with the same options, so a before and
# an after are measured against the same ceiling in the same run.
#   scripts/bench-modbus.sh [--line-timing off|on] [--compare KLEFR-SIM] [SECONDS per run, default 3] [ROUNDS, default 3]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
timing=off
compare=
while [ $# -gt 0 ]; do
  case $1 in
    --line-timing) timing=${2:-}; shift 2 || shift;;
    --compare) compare=${2:-}; shift 2 || shift
      [ -x "$compare" ] || { echo "bench-modbus: --compare: $compare is not an executable" >&2; exit 2; };;
    *) break;;
  esac
done
case $timing in on|off) ;; *) echo "bench-modbus: --line-timing on|off" >&2; exit 2;; esac
secs=${1:-3}
rounds=${2:-3}
"$root/scripts/deps.sh" >&2
"$root/scripts/build.sh" >&2
build=${KLEFR_BUILD:-$root/build}
client=$build/tests/mb_client
[ -x "$client" ] || { echo "bench-modbus: $client missing (libmodbus-dev?)" >&2; exit 1; }
dir=$(mktemp -d)
export KLEFR_STATE_DIR=$dir # the ir link too goes there, not into a running twin's
pid=
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$dir"; }
trap cleanup EXIT

start() { # name command...
  local name=$1; shift
  rm -f "$dir/link"
  "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
  pid=$!
  for _ in $(seq 200); do [ -L "$dir/link" ] && cat "$dir/$name.out" "$dir/$name.err" | grep -q . && return 0; sleep 0.05; done
  echo "bench-modbus: $name did not start" >&2; cat "$dir/$name.err" >&2; exit 1
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; } # user + system of the slave
run() { # name -> appends "req_per_s median_ms slave_cpu_us_per_request" to $dir/name.res
  local c0 out req
  c0=$(cpu_ticks)
  out=$("$client" "$dir/link" 9600 E 1 bench 0x5000 44 "$secs")
  req=$(sed -n 's/^requests=\([0-9]*\).*/\1/p' <<<"$out")
  awk -v c="$(( $(cpu_ticks) - c0 ))" -v hz="$(getconf CLK_TCK)" -v n="$req" \
    -v line="$(sed -n 's/.*req_per_s=\([0-9.]*\) median_rtt_ms=\([0-9.]*\).*/\1 \2/p' <<<"$out")" \
    'BEGIN { printf "%s %.1f\n", line, c / hz * 1e6 / n }' >>"$dir/$1.res"
}

one() { # name: one run against that slave
  case $1 in
    ceiling) start ceiling "$build/tests/mb_null_responder" "$dir/link";;
    klefr|compare) local bin=$build/src/klefr-sim; [ "$1" = compare ] && bin=$compare
      start "$1" "$bin" --headless --ephemeral --model 6924 \
        --line-timing "$timing" --speed 1 --modbus-port "$dir/link" --duration 100000;;
    pymodbus) start pymodbus /usr/bin/python3 "$root/scripts/bench/pymodbus_pty_server.py" "$dir/link";;
  esac
  run "$1"; stop
}
order=(ceiling klefr pymodbus)
[ -n "$compare" ] && order+=(compare)
slaves=("${order[@]}")
for r in $(seq "$rounds"); do
  for k in "${!order[@]}"; do one "${order[(r + k) % ${#order[@]}]}"; done
  echo "round $r: $(for n in klefr pymodbus ceiling ${compare:+compare}; do tail -n1 "$dir/$n.res"; done | tr '\n' '|')" >&2
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A rps ms cpu
for n in "${slaves[@]}"; do
  rps[$n]=$(cut -d' ' -f1 "$dir/$n.res" | median)
  ms[$n]=$(cut -d' ' -f2 "$dir/$n.res" | median)
  cpu[$n]=$(cut -d' ' -f3 "$dir/$n.res" | median)
done
echo "| Slave on the pty (libmodbus master, 44 registers, $secs s x $rounds rounds, medians) | requests/s | median round trip | slave CPU per request |"
echo "|---|---:|---:|---:|"
for n in klefr ${compare:+compare} pymodbus ceiling; do
  label=$n
  case $n in klefr) label="klefr-sim --model 6924 (line timing $timing)";; pymodbus) label="pymodbus 3.0 RTU server";;
    compare) label="--compare $compare (line timing $timing)";;
    ceiling) label="do-nothing C responder (transport ceiling)";; esac
  printf '| %s | %.0f | %.3f ms | %.1f us |\n' "$label" "${rps[$n]}" "${ms[$n]}" "${cpu[$n]}"
done
# The machine may be shared: the ratio of neighbouring runs is steadier
# than the ratio of medians.
paired=$(paste -d' ' "$dir/klefr.res" "$dir/ceiling.res" "$dir/pymodbus.res" |
  awk '{ print $1 / $4 }' | median)
paired_py=$(paste -d' ' "$dir/klefr.res" "$dir/pymodbus.res" | awk '{ print $1 / $4 }' | median)
awk -v a="$paired" -v b="$paired_py" 'BEGIN { printf "median of per-round ratios: klefr-sim / ceiling = %.1f %%, klefr-sim / pymodbus = %.2fx\n", 100 * a, b }'
awk -v k="${rps[klefr]}" -v c="${rps[ceiling]}" -v p="${rps[pymodbus]}" \
  'BEGIN { printf "klefr-sim / ceiling = %.1f %%; klefr-sim / pymodbus = %.2fx; ceiling / pymodbus = %.2fx (ratios of the medians)\n", 100 * k / c, k / p, c / p }'
if [ -n "$compare" ]; then
  paired_cmp=$(paste -d' ' "$dir/compare.res" "$dir/ceiling.res" | awk '{ print $1 / $4 }' | median)
  awk -v a="$paired_cmp" 'BEGIN { printf "median of per-round ratios: --compare / ceiling = %.1f %%\n", 100 * a }'
fi
