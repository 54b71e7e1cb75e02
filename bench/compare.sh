#!/usr/bin/env bash
# cairn against restic, in one run on the same data → docs/benchmarks/compare.md
#
#   bash bench/compare.sh            (COMPARE_MIB=1024 by default; `make bench` runs it)
#
# Data: COMPARE_MIB MiB under /tmp, half random bytes, half pseudo-text, in big, middling and small
# files (bench/compare/gen-data.ts); deleted afterwards. Each tool backs it up into a fresh
# repository, first to a local folder, then to Ceph RGW, and restores it into a fresh directory:
#   restic      restic backup / restic restore (Debian restic; RESTIC_PASSWORD set)
#   pipeline    cairn snapshot | chunk | seal | push, and pull | seal -d | chunk -d | snapshot -x
#   fused       cairn backup, and cairn restore
# Every S3 request of every tool goes through one counting proxy (bench/compare/count-proxy.ts).
# The RGW repositories are then restored once more "far": through a second proxy in front of the
# counting one that holds each request COMPARE_FAR_DELAY ms (30) and sends each response at most
# COMPARE_FAR_RATE MB/s (20), as a store across a network does per connection.
# RGW: CAIRN_S3_ENDPOINT if set (with AWS_* credentials), else one started here and stopped after.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$PATH"
MIB=${COMPARE_MIB:-1024}
W=$(mktemp -d /tmp/cairn-compare.XXXXXX)
DATA=$W/data
RESULTS=$W/results.tsv
OUT=docs/benchmarks/compare.md
export CAIRN_WRITERS=$W/writers CAIRN_CACHE=$W/cache RESTIC_PASSWORD=compare-benchmark RESTIC_CACHE_DIR=$W/restic-cache
unset CAIRN_WRITER_KEY CAIRN_OWNER_KEY

command -v restic >/dev/null || { apt-get install -y restic >/dev/null || { echo "compare: restic is not installed (apt-get install restic)" >&2; exit 1; }; }
[ -x /usr/bin/time ] || { echo "compare: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

PIDS=()
OWN_RGW=
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$OWN_RGW" ] && CEPH_DIR=$OWN_RGW scripts/s3/ceph-stop.sh >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT

if [ -z "${CAIRN_S3_ENDPOINT:-}" ]; then
  OWN_RGW=${COMPARE_CEPH_DIR:-/tmp/cairn-ceph-compare}
  port=${COMPARE_RGW_PORT:-7680}
  CEPH_DIR=$OWN_RGW RGW_PORT=$port MON_PORT=${COMPARE_MON_PORT:-40600} MEMSTORE_BYTES=$((6 << 30)) scripts/s3/ceph-start.sh >&2
  export CAIRN_S3_ENDPOINT=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testaccesskey AWS_SECRET_ACCESS_KEY=testsecretkey AWS_REGION=us-east-1
fi
UPSTREAM=$CAIRN_S3_ENDPOINT
PROXY_PORT=${COMPARE_PROXY_PORT:-7690}
node bench/compare/count-proxy.ts "$UPSTREAM" "$PROXY_PORT" & PIDS+=($!)
export CAIRN_S3_ENDPOINT=http://127.0.0.1:$PROXY_PORT AWS_DEFAULT_REGION=${AWS_REGION:-us-east-1}
for _ in $(seq 50); do curl -sf "$CAIRN_S3_ENDPOINT/__counts" >/dev/null && break; sleep 0.1; done
counts() { curl -sf "$CAIRN_S3_ENDPOINT/__counts"; }
FAR_PORT=${COMPARE_FAR_PORT:-7691}
FAR=http://127.0.0.1:$FAR_PORT
RATE_MBPS=${COMPARE_FAR_RATE:-20} DELAY_MS=${COMPARE_FAR_DELAY:-30} node bench/compare/count-proxy.ts "$CAIRN_S3_ENDPOINT" "$FAR_PORT" & PIDS+=($!)
for _ in $(seq 50); do curl -sf "$FAR/__counts" >/dev/null && break; sleep 0.1; done

echo "compare: generating $MIB MiB under $DATA" >&2
node bench/compare/gen-data.ts "$DATA" "$MIB"
BYTES=$(du -sb --apparent-size "$DATA" | cut -f1)
FILES=$(find "$DATA" -type f | wc -l)
find "$DATA" -type f -print0 | xargs -0 cat > /dev/null   # every run reads from the page cache

cd "$W"
cairn key new -o owner.key >/dev/null
cairn key writer -i owner.key -o writer.key >/dev/null
RUN=0

# measure NAME TARGET COMMAND: runs bash -c COMMAND under /usr/bin/time; records wall, CPU, peak
# RSS (of the largest process), S3 requests and bytes through the proxy.
measure() {
  local name=$1 target=$2 cmd=$3
  counts >/dev/null
  sync  # the last run's written files reach the disk now, not during this run
  RUN=$((RUN + 1))
  echo "compare: $name → $target" >&2
  if ! /usr/bin/time -f "%e %U %S %M" -o "$W/time" bash -o pipefail -c "$cmd" > "$W/run-$RUN.out" 2> "$W/run-$RUN.err"; then
    echo "compare: $name ($target) failed:" >&2; tail -5 "$W/run-$RUN.err" >&2; exit 1
  fi
  read -r wall user sys rss < <(tail -1 "$W/time")
  local c; c=$(counts)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$target" "$wall" "$user" "$sys" "$rss" "$c" >> "$RESULTS"
  local st
  for st in "$W"/stage-*; do  # a pipeline's stages, each timed on its own
    [ -e "$st" ] || continue
    read -r user sys rss < <(tail -1 "$st")
    printf 'stage\t%s\t%s\t%s\t%s\t%s\n' "$name" "$target" "${st##*/stage-}" "$(awk "BEGIN{print $user + $sys}")" "$rss" >> "$RESULTS"
    rm -f "$st"
  done
}
# stage NAME: /usr/bin/time for one stage of a pipeline (CPU seconds and peak RSS of that process)
stage() { echo "/usr/bin/time -f '%U %S %M' -o '$W/stage-$1'"; }
stored() { printf 'stored\t%s\t%s\n' "$1" "$2" >> "$RESULTS"; }
# Restored trees stay until the run ends (the EXIT trap removes $W). Deleting one before the
# next restore made that restore slower, not the tool: on an ext4 without a journal (these
# machines' /), creating a file skips every inode freed in the last seconds (`recently_deleted`
# in find_inode_bit), so 2708 creations right after 2708 deletions spend seconds of system time
# scanning (perf: find_get_block_common, recently_deleted). The first restore of each target
# (restic's) never paid that; the later ones (cairn's) did.
check_restore() {  # same bytes and files as the source (the e2e tests check contents; this checks completeness)
  local dir=$1
  local b f; b=$(du -sb --apparent-size "$dir" | cut -f1); f=$(find "$dir" -type f | wc -l)
  [ "$f" = "$FILES" ] || { echo "compare: $dir holds $f files, not $FILES" >&2; exit 1; }
}

for target in folder s3; do
  if [ $target = folder ]; then
    R_RESTIC=$W/restic-repo; R_PIPE=file://$W/pipe-repo; R_FUSED=file://$W/fused-repo
  else
    B=cairn-compare-$(date +%s)
    for t in restic pipe fused; do node "$ROOT/bench/compare/bucket.ts" create "$B-$t"; done
    R_RESTIC=s3:$CAIRN_S3_ENDPOINT/$B-restic; R_PIPE=s3://$B-pipe/repo; R_FUSED=s3://$B-fused/repo
  fi
  restic -q -r "$R_RESTIC" init >/dev/null
  cairn init "$R_PIPE" --owner-key owner.key --writer-key writer.key 2>/dev/null
  cairn init "$R_FUSED" --owner-key owner.key --writer-key writer.key 2>/dev/null
  counts >/dev/null

  measure "restic backup" $target "restic -q -r '$R_RESTIC' backup '$DATA'"
  measure "pipeline backup" $target "$(stage 1-snapshot) cairn snapshot '$DATA' | $(stage 2-chunk) cairn chunk -k writer.key | $(stage 3-seal) cairn seal -k writer.key | $(stage 4-push) cairn push '$R_PIPE'"
  measure "fused backup" $target "cairn backup -k writer.key '$R_FUSED' '$DATA'"
  if [ $target = folder ]; then
    stored restic "$(du -sb "$R_RESTIC" | cut -f1)"
    stored pipeline "$(du -sb "${R_PIPE#file://}" | cut -f1)"
    stored fused "$(du -sb "${R_FUSED#file://}" | cut -f1)"
  fi
  measure "restic restore" $target "restic -q -r '$R_RESTIC' restore latest --target '$W/out-$target-restic'"
  check_restore "$W/out-$target-restic"
  measure "pipeline restore" $target "$(stage 1-pull) cairn pull -i owner.key '$R_PIPE' latest | $(stage 2-seal-d) cairn seal -d -i owner.key | $(stage 3-chunk-d) cairn chunk -d -i owner.key | $(stage 4-snapshot-x) cairn snapshot -x '$W/out-$target-pipe'"
  check_restore "$W/out-$target-pipe"
  measure "fused restore" $target "cairn restore -i owner.key '$R_FUSED' latest -x '$W/out-$target-fused'"
  check_restore "$W/out-$target-fused"

  if [ $target = s3 ]; then
    # The same repositories, restored far (the counting proxy behind the far one counts them).
    R_RESTIC=s3:$FAR/$B-restic
    measure "restic restore" far "restic -q -r '$R_RESTIC' restore latest --target '$W/out-far-restic'"
    check_restore "$W/out-far-restic"
    measure "pipeline restore" far "export CAIRN_S3_ENDPOINT=$FAR; cairn pull -i owner.key '$R_PIPE' latest | cairn seal -d -i owner.key | cairn chunk -d -i owner.key | cairn snapshot -x '$W/out-far-pipe'"
    check_restore "$W/out-far-pipe"
    measure "fused restore" far "export CAIRN_S3_ENDPOINT=$FAR; cairn restore -i owner.key '$R_FUSED' latest -x '$W/out-far-fused'"
    check_restore "$W/out-far-fused"
    for t in restic pipe fused; do node "$ROOT/bench/compare/bucket.ts" destroy "$B-$t" || true; done
  fi
done

cd "$ROOT"
mkdir -p docs/benchmarks
mkdir -p bench/out && cp "$RESULTS" bench/out/compare-results.tsv   # the raw numbers of this run
node bench/compare/report.ts "$RESULTS" "$MIB" "$BYTES" "$FILES" "$(restic version | head -1)" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
