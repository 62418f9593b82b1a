#!/usr/bin/env bash
# The README's "run Concord" command: builds the release binary (OpenSSL from
# source when the system has no libssl-dev, see scripts/openssl-features.sh)
# and runs `concord demo` with any arguments given (e.g. `--patients 500`,
# `--listen 0.0.0.0:8080`, `--data-dir DIR`).
set -euo pipefail
root=$(cd -- "$(dirname -- "$0")/.." && pwd)
cd "$root"
. scripts/openssl-features.sh
# shellcheck disable=SC2086 # CONCORD_FEATURES is empty or two words
exec cargo run --release -p concord $CONCORD_FEATURES -- demo "$@"
