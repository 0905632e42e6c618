#!/usr/bin/env bash
# Starts or stops a local IPP Everywhere printer (CUPS ippeveprinter) for tests and demos.
# It keeps every job's document byte for byte as SPOOL/<job-id>-<job name>.pdf.
#
#   scripts/ipp-test-printer.sh start PORT SPOOL_DIR [NAME]   # idempotent; prints the printer URI
#   scripts/ipp-test-printer.sh stop  PORT SPOOL_DIR          # idempotent
#   scripts/ipp-test-printer.sh status PORT SPOOL_DIR
#
# ippeveprinter needs DNS-SD, i.e. a system dbus and avahi-daemon: both are started if they are not
# running (and left running; they are shared by every test printer). Needs root for dbus/avahi.
# Packages: cups-ipp-utils avahi-daemon dbus (scripts/install-system-deps.sh --with-test-tools).
set -euo pipefail

usage() { echo "usage: $0 start|stop|status PORT SPOOL_DIR [NAME]" >&2; exit 2; }
[ $# -ge 3 ] || usage
action=$1 port=$2 spool=$3 name=${4:-travdoc-test-$2}
case "$port" in ''|*[!0-9]*) usage ;; esac
pidfile="$spool/.ippeveprinter.pid"
logfile="$spool/.ippeveprinter.log"

printer_alive() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

answers() {
  ipptool -T 2 -q "ipp://localhost:$port/ipp/print" get-printer-attributes.test >/dev/null 2>&1
}

start_dbus() {
  if [ -S /run/dbus/system_bus_socket ] && dbus-send --system --dest=org.freedesktop.DBus \
       --type=method_call --print-reply / org.freedesktop.DBus.GetId >/dev/null 2>&1; then
    return 0
  fi
  mkdir -p /run/dbus
  rm -f /run/dbus/pid                      # a stale pid file stops dbus-daemon from starting
  dbus-daemon --system --fork --print-pid >/dev/null
}

start_avahi() {
  if avahi-daemon --check 2>/dev/null; then return 0; fi
  rm -f /run/avahi-daemon/pid
  avahi-daemon --no-drop-root --no-chroot -D
  for _ in $(seq 1 50); do avahi-daemon --check 2>/dev/null && return 0; sleep 0.1; done
  echo "avahi-daemon did not start" >&2
  return 1
}

case "$action" in
  start)
    mkdir -p "$spool"
    if printer_alive && answers; then
      echo "ipp://localhost:$port/ipp/print"
      exit 0
    fi
    if printer_alive; then kill "$(cat "$pidfile")" 2>/dev/null || true; sleep 0.2; fi
    command -v ippeveprinter >/dev/null || { echo "ippeveprinter not installed (cups-ipp-utils)" >&2; exit 1; }
    start_dbus
    start_avahi
    # -k keeps the job files; -c /bin/true "prints" instantly (without -c the printer simulates
    # ~8 s per job and answers server-error-busy meanwhile).
    setsid ippeveprinter -n localhost -p "$port" -d "$spool" -k -c /bin/true \
      -f application/pdf "$name" >"$logfile" 2>&1 < /dev/null &
    echo $! > "$pidfile"
    for _ in $(seq 1 100); do
      if answers; then echo "ipp://localhost:$port/ipp/print"; exit 0; fi
      if ! printer_alive; then break; fi
      sleep 0.1
    done
    echo "ippeveprinter did not start on port $port; log follows:" >&2
    cat "$logfile" >&2 || true
    exit 1
    ;;
  stop)
    if printer_alive; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    ;;
  status)
    if printer_alive && answers; then echo "running ipp://localhost:$port/ipp/print"; else echo "stopped"; exit 3; fi
    ;;
  *) usage ;;
esac
