#!/usr/bin/env bash
# Debian packages the tests and the optional runs need:
#   chromium            the HTML report is rendered and checked in headless Chromium
#   tmux                the operator screen is driven and captured at several terminal sizes
#   postgresql          a real PostgreSQL server is started by the tests on a temporary data directory
#   util-linux          unshare: the USB hotplug tests run in a private mount and network namespace
#   python3             a fake netlink peer in the hotplug tests
#   libglib2.0-0 libpixman-1-0 libslirp0 libgcrypt20 libfdt1
#                       runtime libraries of the QEMU build behind `npm run conformance` (not part of npm test)
set -euo pipefail
packages=(chromium tmux postgresql util-linux python3 libglib2.0-0 libpixman-1-0 libslirp0 libgcrypt20 libfdt1)
need=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "missing Debian packages: ${need[*]} (install them as root: apt-get install ${need[*]})" >&2
  exit 1
fi
