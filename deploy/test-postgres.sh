#!/bin/sh
# The PostgreSQL server central's store tests also run on (`make test`): the one already
# running on 127.0.0.1:5432, or Debian's, installed and started; and the role the tests
# sign in as (tests/stores.py), which may make and drop databases and nothing more.
set -eu
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! command -v pg_lsclusters >/dev/null; then
    echo "installing PostgreSQL for the store's tests"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends postgresql
  fi
  pg_lsclusters -h | while read -r version cluster _; do
    as_root pg_ctlcluster "$version" "$cluster" start || true
  done
  tries=0
  until pg_isready -q -h 127.0.0.1 -p 5432; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
    sleep 1
  done
fi
as_postgres psql -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'libedge_test') THEN
    CREATE ROLE libedge_test LOGIN CREATEDB PASSWORD 'libedge_test';
  END IF;
END $$;
SQL
