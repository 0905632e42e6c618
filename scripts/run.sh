#!/usr/bin/env bash
# travdoc's main job on the embedded default: installs the system packages it needs (SoftHSM2,
# fonts), builds the release binary and runs it with the data directory ./var.
# Extra arguments are passed to travdoc (default: `serve`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-deps.sh
if [ "$#" -eq 0 ]; then set -- serve; fi
exec cargo run --release --locked --quiet -- "$@"
