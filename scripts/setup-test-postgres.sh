#!/usr/bin/env bash
# Starts the local PostgreSQL 15 cluster and creates the test role and database
# used by `concord-store-postgres` tests. Idempotent: safe to run repeatedly.
# Afterwards:
#   export CONCORD_TEST_POSTGRES_URL=postgres://concord:concord@127.0.0.1:5432/concord_test
set -euo pipefail

PG_VERSION="${PG_VERSION:-15}"

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "setup-test-postgres: installing postgresql-${PG_VERSION}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-${PG_VERSION}" >/dev/null
fi

if ! pg_ctlcluster "$PG_VERSION" main status >/dev/null 2>&1; then
    pg_ctlcluster "$PG_VERSION" main start
fi

# Wait for the server to accept connections.
for _ in $(seq 1 30); do
    if su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432"; then
        break
    fi
    sleep 1
done

role_exists=$(su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'concord'\"")
if [ "$role_exists" != "1" ]; then
    su postgres -c "psql -q -c \"CREATE ROLE concord LOGIN PASSWORD 'concord' SUPERUSER\""
fi

db_exists=$(su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'concord_test'\"")
if [ "$db_exists" != "1" ]; then
    su postgres -c "createdb -O concord concord_test"
fi

echo "setup-test-postgres: ready at postgres://concord:concord@127.0.0.1:5432/concord_test"
