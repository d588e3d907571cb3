#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build klefr-sim, and with
# --test also the real masters the tests drive. Safe to run again: it only
# installs what is missing.
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc libsdl2-dev libserialport-dev libcjson-dev zlib1g-dev
      liburing-dev) # the loop's wait (sim/io_wait.c); optional: ppoll without it
test_pkgs=(check libmodbus-dev mbpoll python3-pymodbus python3-serial python3-serial-asyncio
           python3-jsonschema python3-junitparser
           xvfb xauth xdotool
           clang libclang-rt-14-dev) # firmware-mcu; the ASan+UBSan suite and the libFuzzer targets
with_tests=false
[ "${1:-}" = "--test" ] && with_tests=true
$with_tests && pkgs+=("${test_pkgs[@]}")

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
apt_install() {
  echo "deps: installing $*"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
$with_tests || exit 0

# Third-party masters from the npm registry (node-mbus builds libmbus;
# smartmeter-obis), installed into tests/node from its lock file.
command -v npm >/dev/null || apt_install nodejs npm node-gyp
node_dir=$(cd "$(dirname "$0")/.." && pwd)/tests/node
if [ ! -f "$node_dir/node_modules/.klefr-installed" ] ||
   [ "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.klefr-installed" ]; then
  echo "deps: npm ci in tests/node"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$node_dir/node_modules/.klefr-installed"
fi
