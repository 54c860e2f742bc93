#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests, on loopback only, in a temporary directory.
#
#   eval "$(scripts/ci-postgres.sh start)"   # exports ATLAS_STREAMS_TEST_DATABASE_URL and ATLAS_STREAMS_TEST_PGDATA
#   scripts/ci-postgres.sh stop              # stops it and removes the directory
#
# Installs the Debian package when the server binaries are missing (CI on a new machine);
# runs the server as the unprivileged `postgres` user when started as root (initdb refuses root).
# Everything but the final `export` lines goes to standard error, so `eval` sees only those.
set -euo pipefail

command="${1:-start}"
port="${ATLAS_STREAMS_TEST_PGPORT:-55432}"

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$dir" ] && command -v pg_ctl >/dev/null 2>&1; then dir="$(dirname "$(command -v pg_ctl)")"; fi
  echo "$dir"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
  start)
    bin="$(pg_bin)"
    if [ -z "$bin" ]; then
      echo "installing postgresql" >&2
      apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      bin="$(pg_bin)"
    fi
    data="$(mktemp -d /tmp/atlas-streams-pg.XXXXXX)"
    [ "$(id -u)" = 0 ] && chown postgres "$data"
    as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --no-sync >&2
    # Loopback TCP only, and the socket in the data directory (not /var/run, which may not exist).
    as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c max_connections=300" start >&2
    echo "export ATLAS_STREAMS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
    echo "export ATLAS_STREAMS_TEST_PGDATA=$data"
    ;;
  stop)
    data="${ATLAS_STREAMS_TEST_PGDATA:?run start first (it exports ATLAS_STREAMS_TEST_PGDATA)}"
    as_owner "$(pg_bin)/pg_ctl" -D "$data" -m fast -w stop >&2 || true
    rm -rf "$data"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
