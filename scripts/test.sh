#!/usr/bin/env bash
# The test command (README): fetches the public R4 package used by the corpus
# tests into the git-ignored .cache (once), then runs the whole test suite.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -p concord-api`).
# Backends: SQLite always; PostgreSQL store tests when CONCORD_TEST_POSTGRES_URL
# is set; the API suite on PostgreSQL with CONCORD_TEST_BACKEND=postgres.
set -euo pipefail
root=$(cd -- "$(dirname -- "$0")/.." && pwd)
cd "$root"
if [ ! -d .cache/npm/node_modules/hl7.fhir.r4.examples ]; then
    if command -v npm >/dev/null 2>&1; then
        sh scripts/fetch-r4-package.sh >/dev/null || echo "warning: could not fetch hl7.fhir.r4.examples; corpus tests will say SKIPPED" >&2
    else
        echo "warning: npm not found; R4 example corpus tests will say SKIPPED" >&2
    fi
fi
if [ $# -eq 0 ]; then
    set -- --workspace
fi
# OpenSSL for SQLCipher: the system's when libssl-dev is installed, else
# built from source (adds `--features concord/vendored-openssl`).
# (Only with --workspace: a `-p` selection may not contain `concord`.)
. scripts/openssl-features.sh
if [ -n "$CONCORD_FEATURES" ] && [[ " $* " == *" --workspace "* ]]; then
    # shellcheck disable=SC2086 # two words, before any `--`
    set -- $CONCORD_FEATURES "$@"
fi
# --show-output: corpus tests print their pass counts (N/5306, N/102, N/937,
# N/94, …) and any SKIPPED notice even when they pass.
case " $* " in
    *" -- "*) exec cargo test "$@" ;;
    *) exec cargo test "$@" -- --show-output ;;
esac
