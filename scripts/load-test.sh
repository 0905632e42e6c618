#!/usr/bin/env bash
# Load figures for the service: builds travdoc in release, starts `travdoc serve` on a fresh data
# dir (SoftHSM2 token, SQLite; or a private PostgreSQL cluster with `postgres`), then runs
# `travdoc bench issue` and `travdoc bench verify` with 64 clients and stops everything.
# usage: scripts/load-test.sh [sqlite|postgres]   (ISSUE_COUNT, VERIFY_COUNT to change the counts,
#        WARMUP for the untimed requests run first, default 128, reported on their own line;
#        TRAVDOC_BIN=path to load-test another build, e.g. a baseline, without building;
#        BENCH_BIN=path of the build whose `travdoc bench` drives the load, default TRAVDOC_BIN;
#        KEEP_WORK=1 keeps the run's data dir, logs and database;
#        SLTD_LINES=N imports a lost/stolen list of N documents first and times it;
#        SEED_DOCUMENTS=N writes N issued documents with their applicants into the database
#        first (`travdoc bench seed`: not signed, for the checks before issuance to search);
#        CHECKS=off serves with the checks before issuance switched off (TRAVDOC_CHECKS);
#        TLS=1 serves over TLS with a certificate from a throw-away test CA, and the bench
#        connects with rustls trusting only that CA)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-sqlite}
if [ -n "${TRAVDOC_BIN:-}" ]; then
  BIN=$TRAVDOC_BIN    # e.g. a saved build of an earlier commit, for a baseline in the same run
else
  cargo build --release --quiet --bin travdoc
  BIN=${CARGO_TARGET_DIR:-target}/release/travdoc
fi
work=$(mktemp -d /tmp/travdoc-load-XXXX)
chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
if [ "$kind" = postgres ]; then
  url=$(scripts/pg-test-cluster.sh start "$work/pg" "$(free_port)")
  export DATABASE_URL=$url
fi
scheme=http
tls_args=()
bench_tls=()
if [ "${TLS:-0}" = 1 ]; then
  scheme=https
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=travdoc-load-test-CA -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
    > "$work/server.ext"
  openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
    -CAcreateserial -days 2 -extfile "$work/server.ext" -out "$work/server.pem" 2>/dev/null
  tls_args=(--tls-cert "$work/server.pem" --tls-key "$work/server.key")
  bench_tls=(--ca "$work/ca.pem")
fi
base="$scheme://127.0.0.1:$port"
if [ -n "${SEED_DOCUMENTS:-}" ]; then
  # Before `serve`: the seeding is one writer on the database, and the start's person-index
  # fill finds these rows indexed already.
  "$BIN" --data-dir "$work/var" pki init >/dev/null 2>&1 || true
  echo "== $("$BIN" --data-dir "$work/var" bench seed --documents "$SEED_DOCUMENTS")"
fi
TRAVDOC_CHECKS=${CHECKS:-on} RUST_LOG=warn "$BIN" --data-dir "$work/var" serve --listen "127.0.0.1:$port" --verify-rate 0 \
  "${tls_args[@]}" > "$work/serve.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$kind" = postgres ]; then scripts/pg-test-cluster.sh stop "$work/pg" || true; fi
  # Each run leaves a token, a database and logs (hundreds of MB with PostgreSQL): removed
  # unless KEEP_WORK=1 asks to look at them.
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
for _ in $(seq 1 240); do
  curl -sf --cacert "$work/ca.pem" "$base/readyz" >/dev/null 2>&1 && break
  [ "$scheme" = http ] && curl -sf "$base/readyz" >/dev/null && break
  sleep 0.5
done
BENCH=${BENCH_BIN:-$BIN}
cli() { "$BENCH" --data-dir "$work/var" "$@"; }
if "$BENCH" user --help | grep -q "  token"; then
  # A mission user and an approver with API tokens (`travdoc user token`); the approver's
  # grant, asked by the host operator, is confirmed by the first admin.
  cli user add bench-mission --role mission --mission BNCH >/dev/null 2>&1
  cli user add bench-approver --role approver >/dev/null 2>&1
  admin=$(cli user token admin --label load-test 2>/dev/null)
  TRAVDOC_OPERATOR_TOKEN=$admin cli user confirm bench-approver 2>/dev/null
  export TRAVDOC_MISSION_TOKEN=$(cli user token bench-mission --label load-test 2>/dev/null)
  export TRAVDOC_APPROVER_TOKEN=$(cli user token bench-approver --label load-test 2>/dev/null)
  bench_auth=()
else
  # A build from before staff sign-in: its bench makes its own users with the admin token.
  bench_auth=(--token "$(cat "$work/var/admin.token")")
fi
if [ -n "${SLTD_LINES:-}" ]; then
  # A lost/stolen list of SLTD_LINES documents (none of them the bench's), imported before
  # the run: every TTD request of the bench names a previous passport, looked up in it.
  python3 -c "
import sys
n = int(sys.argv[1])
with open(sys.argv[2], 'w') as out:
    out.write('issuing_state,document_type,document_number,status,reported_on\\n')
    for i in range(n):
        out.write('LKA,P,S%08d,%s,2026-01-02\\n' % (i, 'stolen' if i % 2 else 'lost'))
" "$SLTD_LINES" "$work/sltd.csv"
  started=$(date +%s.%N)
  cli sltd import "$work/sltd.csv" > "$work/sltd-report.json"
  ended=$(date +%s.%N)
  echo "== sltd import: $SLTD_LINES lines in $(python3 -c "print(round($ended - $started, 2))") s"
fi
echo "== $kind over $scheme: issue (checks ${CHECKS:-on})"
"$BENCH" bench issue --url "$base" "${bench_tls[@]}" "${bench_auth[@]}" --concurrency 64 \
  --count "${ISSUE_COUNT:-3000}" --warmup "${WARMUP:-128}"
echo "== $kind over $scheme: verify"
"$BENCH" bench verify --url "$base" "${bench_tls[@]}" "${bench_auth[@]}" --concurrency 64 \
  --count "${VERIFY_COUNT:-10000}" --warmup "${WARMUP:-128}"
