#!/usr/bin/env bash
# Regenerates docs/img/panel.png: a 6922 in a virtual X window (Xvfb) with a
# 10 A load at PF 0.8 inductive, the tariff input at T2, and the right button
# held for 3.4 s when the picture is taken (keys and mouse via xdotool).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" >&2
build=${KLEFR_BUILD:-$root/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/demo.sh" <<DEMO
#!/usr/bin/env bash
set -euo pipefail
cd "$tmp"
"$build/src/klefr-sim" --model 6922 --ephemeral --load 230V,5A >/dev/null &
pid=\$!
w=\$(xdotool search --sync --onlyvisible --name KLEFR | head -1)
sleep 0.5
xdotool key --window \$w bracketright bracketright plus t
sleep 9
# the right meter button of the default 1120x768 window
xdotool mousemove --window \$w 229 485 mousedown 1
sleep 3.4
xdotool key --window \$w F12
sleep 0.4
xdotool mouseup 1
sleep 0.2
# Escape closes the window on key-down; sending the key-up may then fail
xdotool key --window \$w Escape || true
wait \$pid
DEMO
chmod +x "$tmp/demo.sh"
xvfb-run -a -s "-screen 0 1400x1000x24 -noreset" "$tmp/demo.sh"
mkdir -p "$root/docs/img"
cp "$tmp/klefr-panel-1.png" "$root/docs/img/panel.png"
echo "wrote docs/img/panel.png"
