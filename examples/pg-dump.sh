#!/usr/bin/env bash
# Back up a PostgreSQL database with cairn and restore it into a fresh database.
#
#   PG=postgresql://postgres@127.0.0.1:5432 DB=prod REPO=s3://backups/db bash examples/pg-dump.sh
#
# PG     the server, as a URL without the database (default: a throwaway server started here
#        with scripts/pg/pg-start.sh, holding a small demo database)
# DB     the database to back up (default: shop, created in the throwaway server)
# REPO   the repository (default: a folder under WORK); created with cairn init if it has none
# WORK   where the keys and the restore check live (default: a fresh temporary directory)
#
# pg_dump runs under `cairn snapshot --from-command`: if it fails or dies half-way, the snapshot
# fails and nothing is committed (push exits non-zero and cron sees it). Restore order and paths
# live in the encrypted manifest, so restoring needs the owner key; the data host needs only the
# writer key.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HERE/node_modules/.bin:$PATH"
WORK=${WORK:-$(mktemp -d)}
export CAIRN_WRITERS=${CAIRN_WRITERS:-$WORK/writers} CAIRN_CACHE=${CAIRN_CACHE:-$WORK/cache}
REPO=${REPO:-file://$WORK/repo}
# Dumps change in small places: smaller chunks than the 1 MiB default find more of it unchanged.
CHUNK_SIZES=${CHUNK_SIZES:---min 16K --avg 64K --max 256K}

if [ -z "${PG:-}" ]; then
  export PGPORT=${PGPORT:-55433} CAIRN_PG_DIR=/tmp/cairn-pg-example-${PGPORT:-55433}  # readable by the postgres user
  PG=$("$HERE/scripts/pg/pg-start.sh"); PG=${PG%/postgres}
  trap 'cd / && "$HERE/scripts/pg/pg-stop.sh"' EXIT
  DB=${DB:-shop}
  psql -q -v ON_ERROR_STOP=1 "$PG/postgres" -c "create database $DB"
  psql -q -v ON_ERROR_STOP=1 "$PG/$DB" <<'SQL'
create table customers (id int primary key, name text not null, city text);
create table orders (id bigint primary key, customer int not null, placed timestamptz not null, total numeric(10,2) not null, note text);
insert into customers select i, 'customer ' || i, (array['Oslo','Lyon','Porto','Graz','Turku'])[1 + i % 5] from generate_series(1, 20000) i;
insert into orders select i, 1 + (i * 7919) % 20000, timestamptz '2024-01-01' + i * interval '37 seconds', ((i * 31) % 100000) / 100.0, md5(i::text) from generate_series(1, 100000) i;
SQL
fi
DB=${DB:?set DB to the database to back up}

# Keys and repository, once: the owner key stays with the owner; data hosts get the writer key.
cd "$WORK"
[ -f owner.key ] || cairn key new -o owner.key >/dev/null
[ -f writer.key ] || cairn key writer -i owner.key -o writer.key >/dev/null
cairn ls "$REPO" >/dev/null 2>&1 || cairn init "$REPO" --owner-key owner.key --writer-key writer.key

# Back up: the dump streams through; nothing is written to local disk.
cairn snapshot --from-command --name "$DB.sql" --tag pg_dump -- pg_dump --no-owner "$PG/$DB" \
  | cairn chunk -k writer.key $CHUNK_SIZES \
  | cairn seal -k writer.key \
  | cairn push "$REPO"
# (the same in one process: cairn backup -k writer.key $CHUNK_SIZES "$REPO" --from-command --name "$DB.sql" -- pg_dump …)

# Restore the latest dump into a fresh database.
PGOPTIONS="-c client_min_messages=warning" psql -q -v ON_ERROR_STOP=1 "$PG/postgres" -c "drop database if exists ${DB}_restored" -c "create database ${DB}_restored"
cairn pull -i owner.key "$REPO" latest \
  | cairn seal -d -i owner.key \
  | cairn chunk -d -i owner.key \
  | cairn snapshot -x --stdout "$DB.sql" \
  | psql -q -v ON_ERROR_STOP=1 "$PG/${DB}_restored" >/dev/null
# (the same in one process: cairn restore -i owner.key "$REPO" latest "$DB.sql" --stdout | psql …)

# The restored database dumps the same as the original (pg_dump 15.14+ adds a random \restrict key).
same() { pg_dump --no-owner "$PG/$1" | grep -v '^\\\(un\)\?restrict '; }
if cmp -s <(same "$DB") <(same "${DB}_restored"); then
  echo "pg-dump: ${DB}_restored is identical to $DB (per pg_dump); keys and cache in $WORK"
else
  echo "pg-dump: ${DB}_restored differs from $DB" >&2
  exit 1
fi
