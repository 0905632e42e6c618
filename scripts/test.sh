#!/usr/bin/env bash
# Runs every test travdoc has, the way CI does: installs the system packages the tests need
# (SoftHSM2, OpenSSL, PostgreSQL server binaries, poppler, ippeveprinter with dbus/avahi, ...),
# then the gates: rustfmt, clippy with warnings as errors, and the whole workspace's tests.
# Services (a private PostgreSQL cluster, an IPP Everywhere printer) are started by the tests
# themselves through scripts/pg-test-cluster.sh and scripts/ipp-test-printer.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-system-deps.sh --with-test-tools

if [ ! -d ../shared/vectors ]; then
  echo "error: ../shared/vectors is missing: the known-answer tests read the public vectors from there" >&2
  exit 2
fi

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== the fuzz targets type-check (cargo fuzz links them with libFuzzer; not here)"
cargo check --manifest-path fuzz/Cargo.toml --locked --bins --no-default-features
echo "== cargo test"
cargo test --workspace --locked --no-fail-fast
