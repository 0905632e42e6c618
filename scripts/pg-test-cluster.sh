#!/usr/bin/env bash
# A private, throw-away PostgreSQL cluster for tests (no systemd, no global state).
#   scripts/pg-test-cluster.sh start DIR PORT   -> prints postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/pg-test-cluster.sh stop DIR [MODE]   (pg_ctl's shutdown mode, default immediate)
# With PG_SSL_CERT and PG_SSL_KEY (PEM files) set, the server also speaks TLS with them.
# DIR is created (owned by the postgres user when run as root, since initdb refuses root).
# Durability settings are relaxed (fsync off): the cluster is for tests only.
set -euo pipefail

bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 64
fi

as_owner=()
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); fi

case "$cmd" in
  start)
    port="${3:-}"
    if [ -z "$port" ]; then echo "start needs a PORT" >&2; exit 64; fi
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    ssl=""
    if [ -n "${PG_SSL_CERT:-}" ] && [ -n "${PG_SSL_KEY:-}" ]; then
      cp "$PG_SSL_CERT" "$dir/server.crt"
      cp "$PG_SSL_KEY" "$dir/server.key"
      chmod 600 "$dir/server.key"
      if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir/server.crt" "$dir/server.key"; fi
      ssl="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
    fi
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 $ssl" \
      start >"$dir/pg_ctl.log" 2>&1 || { cat "$dir/pg_ctl.log" "$dir/log" >&2 2>/dev/null; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m "${3:-immediate}" -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "unknown command $cmd" >&2
    exit 64
    ;;
esac
