#!/usr/bin/env bash
# `cairn prune` time and peak RSS on a folder repository of N snapshots (default 100) of a small,
# mostly-shared tree (built quickly with the fused `cairn backup`): a dry run, the marking run
# (--keep-last 10 removes 90 snapshots; unreferenced packs are marked, mixed ones repacked) and
# the deleting run (the marks are past the grace period). Writes docs/benchmarks/prune.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
N=${N:-100}
work=$(mktemp -d /tmp/cairn-bench-prune.XXXXXX)
trap 'rm -rf "$work"' EXIT
export CAIRN_WRITERS=$work/writers CAIRN_CACHE=$work/cache CAIRN_PASSPHRASE= CAIRN_WRITER_KEY= CAIRN_OWNER_KEY=
repo="file://$work/repo"
mkdir -p "$work/src"
for i in $(seq -w 1 16); do head -c 262144 /dev/urandom > "$work/src/shared$i"; done
(cd "$work" && cairn init "$repo" --owner-key owner.key --writer-key writer.key 2>/dev/null)
echo "backing up $N snapshots into $work/repo" >&2
t0=$(date +%s.%N)
for i in $(seq 1 "$N"); do
  head -c 65536 /dev/urandom > "$work/src/changing"
  echo "$i" > "$work/src/counter"
  (cd "$work" && cairn backup -k writer.key --pack-size 262144 "$repo" src >/dev/null)
done
build=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b-a}')
packs_before=$(find "$work/repo/packs" -type f | wc -l)
bytes_before=$(du -sb "$work/repo/packs" | cut -f1)

# run LABEL ARGS…: prints "seconds rssMiB cpuSeconds"
run() {
  local label=$1 t0 t1 rc=0
  shift
  t0=$(date +%s.%N)
  (cd "$work" && /usr/bin/time -f "%M %U %S" -o "$work/t" cairn prune "$repo" --no-cache "$@" >"$work/out") || rc=$?
  t1=$(date +%s.%N)
  [ "$rc" -eq 0 ] || { echo "prune $* exited $rc:" >&2; cat "$work/out" >&2; exit 1; }
  local line
  line=$(awk -v t0="$t0" -v t1="$t1" '{printf "%.2f %d %.2f\n", t1-t0, $1/1024, $2+$3}' "$work/t")
  echo "  $label: $line (s, peak RSS MiB, CPU s)" >&2
  echo "$line"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
dry=$(run "dry run" --keep-last 10 --grace 0s --dry-run)
mark=$(run "mark (90 snapshots removed)" --keep-last 10 --grace 0s)
delete=$(run "delete (marks past grace)" --keep-last 10 --grace 0s)
again=$(run "nothing to do" --keep-last 10 --grace 0s)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
packs_after=$(find "$work/repo/packs" -type f | wc -l)
bytes_after=$(du -sb "$work/repo/packs" | cut -f1)
(cd "$work" && cairn verify "$repo" --no-cache --read-data >/dev/null) || { echo "verify failed after prune" >&2; exit 1; }

mkdir -p docs/benchmarks
{
  echo "# prune"
  echo
  echo "Command: \`N=$N bash bench/prune.sh\`: $N snapshots (\`cairn backup --pack-size 262144\`, ${build} s to build)"
  echo "of a tree of 16 unchanging 256 KiB files plus a 64 KiB file that changes every time, in a folder"
  echo "repository: $packs_before packs ($(awk -v b="$bytes_before" 'BEGIN {printf "%.1f", b/1048576}') MiB) before, $packs_after ($(awk -v b="$bytes_after" 'BEGIN {printf "%.1f", b/1048576}') MiB) after."
  echo "Each row is one \`cairn prune REPO --no-cache --keep-last 10 --grace 0s …\` run, timed with"
  echo "\`/usr/bin/time\` (peak RSS, user+system CPU); \`cairn verify --read-data\` passes afterwards."
  echo
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores shared with other work: load average"
  echo "$load_before before, $load_after after."
  echo
  echo "| run | seconds | peak RSS MiB | CPU s |"
  echo "|---|---|---|---|"
  for row in "dry run (--dry-run)|$dry" "marks ($((N - 10)) snapshots removed, garbage packs marked, mixed packs repacked)|$mark" "deletes (marks past the grace period; index compacted)|$delete" "nothing left to do|$again"; do
    set -- ${row#*|}
    echo "| ${row%%|*} | $1 | $2 | $3 |"
  done
  echo
  echo "- Most of the time is Node's start-up and the listing and reading of $N snapshot objects and"
  echo "  their refs roots (each distinct refs block is read once per run: unchanged trees share them)."
  echo "- Memory is the index as typed arrays (about 45 bytes per object, held twice: by pack state"
  echo "  (live, marked) and once whole for reading refs) plus a flag byte per object; it does not grow with the snapshots' sizes."
} > docs/benchmarks/prune.md
echo "wrote docs/benchmarks/prune.md" >&2
