#!/usr/bin/env bash
# Stops the server pg-start.sh started and removes its data.
set -uo pipefail
DIR=${CAIRN_PG_DIR:-/tmp/cairn-pg}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ -f "$DIR/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
rm -rf "$DIR"
