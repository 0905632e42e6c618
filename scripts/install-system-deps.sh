#!/usr/bin/env bash
# Installs the Debian 12 packages travdoc needs, idempotently: a package is installed only when
# it is missing, and apt-get update runs only when something has to be installed.
# Usage: scripts/install-system-deps.sh [--with-test-tools]
set -euo pipefail

runtime=(softhsm2 opensc fonts-ocr-b fonts-noto-core fonts-dejavu-core pkg-config libssl-dev)
test_tools=(openssl postgresql poppler-utils dmtx-utils zbar-tools cups-ipp-utils avahi-daemon dbus
            chromium chromium-driver imagemagick sqlite3 python3-ldap)

want=("${runtime[@]}")
if [ "${1:-}" = "--with-test-tools" ]; then want+=("${test_tools[@]}"); fi

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: done"
