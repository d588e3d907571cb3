#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test klefr-sim.
# Safe to run again: it only installs packages that are missing.
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc libsdl2-dev libserialport-dev libcjson-dev check
      libmodbus-dev mbpoll python3-pymodbus python3-serial python3-serial-asyncio xvfb xauth xdotool
      zlib1g-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Third-party masters from the npm registry (node-mbus builds libmbus;
# smartmeter-obis), installed into tests/node from its lock file.
if ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm node-gyp >/dev/null
fi
node_dir=$(cd "$(dirname "$0")/.." && pwd)/tests/node
if [ ! -f "$node_dir/node_modules/.klefr-installed" ] ||
   [ "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.klefr-installed" ]; then
  echo "deps: npm install in tests/node"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$node_dir/node_modules/.klefr-installed"
fi
