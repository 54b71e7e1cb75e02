#!/usr/bin/env bash
# `make demo`: a real backup and restore on a local-folder repository, no server needed.
# Backs up this project's own source tree twice (changing a file in between), lists the
# snapshots, restores everything from the latest one and one file from the first, and checks
# both against the originals byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${DEMO_DIR:-$(mktemp -d /tmp/cairn-demo.XXXXXX)}
mkdir -p "$WORK"
export CAIRN_WRITERS=$WORK/trusted-writers CAIRN_CACHE=$WORK/cache   # keep the demo out of ~/.config
REPO=file://$WORK/repo
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "cairn key new -o owner.key            # the owner: an age identity + the repository secrets"
cairn key new -o "$WORK/owner.key" >/dev/null
step "cairn key writer -i owner.key -o writer.key   # what a data host holds: it can back up, never read"
cairn key writer -i "$WORK/owner.key" -o "$WORK/writer.key" >/dev/null
step "cairn init $REPO --owner-key owner.key --writer-key writer.key"
cairn init "$REPO" --owner-key "$WORK/owner.key" --writer-key "$WORK/writer.key"

mkdir -p "$WORK/data"
cp -r packages docs "$WORK/data/"
echo "version 1" > "$WORK/data/notes.txt"
step "cairn snapshot data | cairn chunk -k writer.key | cairn seal -k writer.key | cairn push $REPO"
(cd "$WORK" && cairn snapshot data | cairn chunk -k writer.key | cairn seal -k writer.key | cairn push "$REPO")
sleep 1
echo "version 2" > "$WORK/data/notes.txt"
step "(change notes.txt, then the same pipeline again: only what changed is stored)"
(cd "$WORK" && cairn snapshot data | cairn chunk -k writer.key | cairn seal -k writer.key | cairn push --json "$REPO")

step "cairn ls $REPO"
cairn ls "$REPO"

step "cairn pull -i owner.key $REPO latest | cairn seal -d -i owner.key | cairn chunk -d -i owner.key | cairn snapshot -x restore"
cairn pull -i "$WORK/owner.key" "$REPO" latest | cairn seal -d -i "$WORK/owner.key" \
  | cairn chunk -d -i "$WORK/owner.key" | cairn snapshot -x "$WORK/restore"
diff -r "$WORK/data" "$WORK/restore/data"
echo "restored tree is identical to the source"

first=$(cairn ls --json "$REPO" | node -e 'const l=require("fs").readFileSync(0,"utf8").trim().split("\n").map(JSON.parse);l.sort((a,b)=>a.time<b.time?-1:1);console.log(l[0].id)')
step "cairn pull -i owner.key $REPO ${first:0:12} data/notes.txt | … | cairn snapshot -x --stdout   # one file, as it was"
cairn pull -i "$WORK/owner.key" "$REPO" "$first" data/notes.txt | cairn seal -d -i "$WORK/owner.key" \
  | cairn chunk -d -i "$WORK/owner.key" | cairn snapshot -x --stdout > "$WORK/notes.old"
[ "$(cat "$WORK/notes.old")" = "version 1" ] && echo "the first snapshot's notes.txt says: $(cat "$WORK/notes.old")"

step "cairn verify -i owner.key $REPO --read-data   # proof that it restores: every pack, object and manifest checked"
cairn verify -i "$WORK/owner.key" "$REPO" --read-data

printf '\ndemo done; everything is under %s\n' "$WORK"
