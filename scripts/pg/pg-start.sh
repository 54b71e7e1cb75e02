#!/usr/bin/env bash
# A throwaway PostgreSQL on 127.0.0.1:${PGPORT:-55432} (trust auth, user postgres), data in
# ${CAIRN_PG_DIR:-/tmp/cairn-pg}. Runs the server as the "postgres" system user when started as
# root (PostgreSQL refuses to run as root). Stop with pg-stop.sh.
set -euo pipefail
DIR=${CAIRN_PG_DIR:-/tmp/cairn-pg}
PORT=${PGPORT:-55432}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$BIN/initdb" ] || { echo "pg-start: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -f "$DIR/data/postmaster.pid" ]; then
  echo "pg-start: $DIR is in use (run pg-stop.sh first)" >&2; exit 1
fi
rm -rf "$DIR"; mkdir -p "$DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --no-sync -E UTF8 >"$DIR/initdb.log" 2>&1
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null
echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
