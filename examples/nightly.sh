#!/usr/bin/env bash
# A nightly cron job with three layers: a local folder (fast restores), a cloud bucket, and an
# offsite copy that no data host can write to directly.
#
#   SRC=/srv/data LOCAL=file:///backup/cairn CLOUD=s3://backups/prod OFFSITE=s3://offsite/prod \
#     KEY=/etc/cairn/writer.key bash examples/nightly.sh
#
# SRC       what to back up (default: this project's docs/ and examples/)
# LOCAL     the first layer (default: a folder under WORK)
# CLOUD     the second layer (default: a second folder under WORK; s3://… in real use)
# OFFSITE   the third layer, filled from LOCAL with `pull --raw | push`, which needs no key
#           (default: a third folder under WORK)
# KEY       the writer key (default: WORK/writer.key, made with a fresh owner key on first run)
# OWNER_KEY when set (a verification host, never a data host), also restore-test the newest
#           snapshot of OFFSITE: every file decrypted and checked against its digest
# VERIFY    the share of packs downloaded and hashed per run and layer (default 1/7: each pack
#           every week; for a `%` window or groups see `cairn verify --help`)
# WORK      keys and default repositories (default: a fresh temporary directory)
#
# Every step runs even when an earlier one failed (a dead cloud must not stop the offsite copy of
# last night's local snapshot), and prints one line. The job exits 0 only if every step did, so
# cron mails the log when anything needs a look; the exit code is the first failure's
# (docs/exit-codes.md). A backup that committed but missed unreadable files (3) counts as failed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HERE/node_modules/.bin:$PATH"
WORK=${WORK:-$(mktemp -d)}
export CAIRN_WRITERS=${CAIRN_WRITERS:-$WORK/writers} CAIRN_CACHE=${CAIRN_CACHE:-$WORK/cache}
LOCAL=${LOCAL:-file://$WORK/local}
CLOUD=${CLOUD:-file://$WORK/cloud}
OFFSITE=${OFFSITE:-file://$WORK/offsite}
VERIFY=${VERIFY:-1/7}
if [ -z "${SRC:-}" ]; then
  SRC="$WORK/src"
  mkdir -p "$SRC" && cp -r "$HERE/docs" "$HERE/examples" "$SRC/"
fi

# The very first run with no KEY makes the keys and the three repositories (all for the same key
# set, so that snapshots can be copied between them), and stops if it cannot. In real use the
# owner key is made once, away from the data host, and only writer.key is installed here. Later
# runs never create anything: a layer that is down or gone fails its own steps below.
if [ -z "${KEY:-}" ]; then
  KEY=$WORK/writer.key
  if [ ! -f "$KEY" ]; then
    cairn key new -o "$WORK/owner.key" >/dev/null && cairn key writer -i "$WORK/owner.key" -o "$KEY" >/dev/null || exit
    for repo in "$LOCAL" "$CLOUD" "$OFFSITE"; do
      cairn init "$repo" --owner-key "$WORK/owner.key" --writer-key "$KEY" >/dev/null || exit
    done
  fi
fi

failed=0
step() {  # step NAME COMMAND…: runs it (its errors reach stderr), prints one line, keeps the first failure's code
  local name=$1 code
  shift
  "$@" >/dev/null
  code=$?
  if [ "$code" -eq 0 ]; then
    echo "nightly: $name: ok"
  else
    echo "nightly: $name: FAILED (exit $code)" >&2
    [ "$failed" -ne 0 ] || failed=$code
  fi
  return "$code"
}

# 1. Back up once, committing to LOCAL and CLOUD: one read of the data, one snapshot id in both.
#    A layer that fails is reported and the other still commits (docs/repository.md).
step "backup to $LOCAL and $CLOUD" cairn backup -k "$KEY" "$LOCAL" "$CLOUD" "$SRC"

# 2. Offsite: copy every snapshot LOCAL has and OFFSITE lacks (so a missed night catches up),
#    sending only the objects OFFSITE does not hold yet (--have).
replicate() {
  local have want id code=0
  have=$(cairn ls --json "$OFFSITE") || return
  want=$(cairn ls --json "$LOCAL") || return
  for id in $(node -e '
    const ids = (s) => s.split("\n").filter(Boolean).map((l) => JSON.parse(l).id);
    const [have, want] = process.argv.slice(1).map(ids);
    console.log(want.filter((id) => !have.includes(id)).join(" "));' "$have" "$want"); do
    cairn pull --raw --have "$OFFSITE" "$LOCAL" "$id" | cairn push "$OFFSITE" || code=$?
  done
  return "$code"
}
step "copy to $OFFSITE" replicate

# 3. Retention. The offsite policy keeps at least what the others keep, so nothing copied there is
#    pruned and then copied again the next night.
step "prune $LOCAL" cairn prune "$LOCAL" --keep-daily 7 --keep-weekly 5 --keep-monthly 12
step "prune $CLOUD" cairn prune "$CLOUD" --keep-daily 7 --keep-weekly 5 --keep-monthly 12
step "prune $OFFSITE" cairn prune "$OFFSITE" --keep-daily 7 --keep-weekly 12 --keep-monthly 36 --keep-yearly 10

# 4. Verification: every snapshot's objects are present and every pack index agrees, and a
#    rotating share of the packs is downloaded and hashed. With the owner key, a restore test.
for repo in "$LOCAL" "$CLOUD" "$OFFSITE"; do
  step "verify $repo" cairn verify "$repo" --read-data "$VERIFY"
done
if [ -n "${OWNER_KEY:-}" ]; then
  step "restore test of $OFFSITE" cairn verify -i "$OWNER_KEY" --restore-test latest "$OFFSITE"
fi

[ "$failed" -eq 0 ] && echo "nightly: all steps ok (work directory $WORK)"
exit "$failed"
