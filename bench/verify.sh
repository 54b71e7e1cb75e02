#!/usr/bin/env bash
# `cairn verify` throughput on a repository of ~1 GiB in a folder (GIB=1): without a key
# (signatures, references, pack trailers), with --read-data (every pack downloaded and hashed),
# with the owner key (manifests), and with both (every object opened and checked against its
# id). MB/s = bytes of packs in the repository / wall seconds. Writes docs/benchmarks/verify.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
GIB=${GIB:-1}
RUNS=${RUNS:-2}
work=$(mktemp -d /tmp/cairn-bench-verify.XXXXXX)
trap 'rm -rf "$work"' EXIT
export CAIRN_WRITERS=$work/writers CAIRN_CACHE=$work/cache CAIRN_PASSPHRASE= CAIRN_WRITER_KEY= CAIRN_OWNER_KEY=

echo "generating $GIB GiB in $work and backing it up" >&2
mkdir -p "$work/src"
for i in $(seq -w 1 $((GIB * 32))); do head -c 33554432 /dev/urandom > "$work/src/f$i"; done
repo="file://$work/repo"
(cd "$work" && cairn init "$repo" --owner-key owner.key --writer-key writer.key 2>/dev/null)
(cd "$work" && cairn backup -k writer.key "$repo" src >/dev/null)
bytes=$(du -sb "$work/repo/packs" | cut -f1)

# run LABEL ARGS…: best of $RUNS; prints "seconds rssMiB cpuSeconds"
run() {
  local label=$1 best=
  shift
  for _ in $(seq "$RUNS"); do
    local t0 t1 rc=0
    t0=$(date +%s.%N)
    (cd "$work" && /usr/bin/time -f "%M %U %S" -o "$work/t" cairn verify "$repo" --no-cache "$@" >"$work/out") || rc=$?
    t1=$(date +%s.%N)
    [ "$rc" -eq 0 ] || { echo "verify $* exited $rc:" >&2; cat "$work/out" >&2; exit 1; }
    local line
    line=$(awk -v t0="$t0" -v t1="$t1" '{printf "%.2f %d %.2f\n", t1-t0, $1/1024, $2+$3}' "$work/t")
    echo "  $label: $line (s, peak RSS MiB, CPU s)" >&2
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN {exit !(a < b)}'; then best=$line; fi
  done
  echo "$best"
}

declare -a labels=("no key, no --read-data" "--read-data" "-i owner.key" "-i owner.key --read-data")
declare -a flags=("" "--read-data" "-i owner.key" "-i owner.key --read-data")
declare -a results
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for i in "${!labels[@]}"; do
  # shellcheck disable=SC2086
  results[$i]=$(run "${labels[$i]}" ${flags[$i]})
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
packs=$(find "$work/repo/packs" -type f | wc -l)

mkdir -p docs/benchmarks
{
  echo "# verify"
  echo
  echo "Command: \`GIB=$GIB RUNS=$RUNS bash bench/verify.sh\`: $GIB GiB of random data in $((GIB * 32)) files of"
  echo "32 MiB, backed up with \`cairn backup\` into a folder repository ($(awk -v b="$bytes" 'BEGIN {printf "%.0f", b/1e6}') MB in $packs packs),"
  echo "then \`cairn verify REPO --no-cache …\` timed (best of $RUNS runs), peak RSS and CPU from \`/usr/bin/time\`."
  echo "MB/s is the repository's pack bytes divided by wall time. The packs were just written, so"
  echo "reads come from the page cache: this measures verify's own cost, not a disk's or a network's."
  echo
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores shared with other work: load average"
  echo "$load_before before, $load_after after."
  echo
  echo "| checks | seconds | MB/s | peak RSS MiB | CPU s |"
  echo "|---|---|---|---|---|"
  for i in "${!labels[@]}"; do
    set -- ${results[$i]}
    awk -v l="${labels[$i]}" -v b="$bytes" -v s="$1" -v r="$2" -v c="$3" 'BEGIN {printf "| %s | %.2f | %.0f | %d | %.2f |\n", l, s, b/1e6/s, r, c}'
  done
  echo
  echo "- Without \`--read-data\`, verify reads every snapshot, index file and refs block and one"
  echo "  ranged GET of each pack's trailer: its time grows with the number of packs and objects, not"
  echo "  with their bytes (the MB/s is \"repository bytes covered per second\")."
  echo "- \`--read-data\` downloads each pack and hashes it (SHA-256 against its name): bounded by"
  echo "  hashing and the store's read rate; packs are streamed (hash + the last 64 KiB for the"
  echo "  trailer), so memory does not grow with the pack size."
  echo "- With \`-i\`, \`--read-data\` also decrypts (ChaCha20-Poly1305), decompresses (zstd) and"
  echo "  HMACs every object, on worker threads (one per core, at most 4), holding up to \`--jobs\` (4)"
  echo "  whole packs. The CPU column counts every thread; the wall time is what a machine shared with"
  echo "  other work (load above) left it."
} > docs/benchmarks/verify.md
cat docs/benchmarks/verify.md
