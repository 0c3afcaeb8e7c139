#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL server on loopback:
#   scripts/with-postgres.sh pytest ...
# The server lives in a temporary directory and is stopped afterwards.
set -euo pipefail
PGBIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)")
PORT=${XINYU_PG_PORT:-54329}
DIR=$(mktemp -d /tmp/xinyu-pg.XXXXXX)
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$DIR"
  RUN_AS=(runuser -u postgres --)
fi
"${RUN_AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U xinyu -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
cleanup() {
  "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
"${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
export DATABASE_URL="postgres://xinyu@127.0.0.1:$PORT/xinyu"
"$@"
