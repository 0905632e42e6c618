#!/usr/bin/env bash
# Installs the Debian 12 packages travdoc needs, idempotently: a package is installed only when
# it is missing, and apt-get update runs only when something has to be installed.
# Usage: scripts/install-system-deps.sh [--with-test-tools]
set -euo pipefail

# curl, jq and poppler-utils: the README's first-hour tour (API calls, JSON, the PDF's barcode).
runtime=(softhsm2 opensc fonts-ocr-b fonts-noto-core fonts-dejavu-core pkg-config libssl-dev
         curl jq poppler-utils)
test_tools=(openssl postgresql poppler-utils dmtx-utils zbar-tools cups-ipp-utils avahi-daemon dbus
            chromium chromium-driver imagemagick sqlite3 python3-ldap python3-venv)

want=("${runtime[@]}")
if [ "${1:-}" = "--with-test-tools" ]; then want+=("${test_tools[@]}"); fi

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

# schemathesis (PyPI, pinned) for the API contract test, in a virtual environment of the
# project's own (tests/service/contract.rs runs target/tools/schemathesis/bin/st).
schemathesis() {
  local version=4.32.5
  local venv
  venv="$(cd "$(dirname "$0")/.." && pwd)/target/tools/schemathesis"
  if [ -x "$venv/bin/st" ] && "$venv/bin/st" --version 2>/dev/null | grep -q "$version"; then
    echo "schemathesis $version: present"
    return
  fi
  echo "schemathesis $version: installing into $venv"
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
}

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all present"
  if [ "${1:-}" = "--with-test-tools" ]; then schemathesis; fi
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: done"
if [ "${1:-}" = "--with-test-tools" ]; then schemathesis; fi
