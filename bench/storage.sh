#!/usr/bin/env bash
# Storage alone: folder and Ceph RGW throughput and request counts → docs/benchmarks/storage.md
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/benchmarks
started=
if [ -z "${CAIRN_S3_ENDPOINT:-}" ] && command -v radosgw >/dev/null; then
  # a private RGW, so a running suite's (default port) is left alone
  export CEPH_DIR=${TMPDIR:-/tmp}/cairn-ceph-bench-storage RGW_PORT=${BENCH_RGW_PORT:-7487} MON_PORT=${BENCH_MON_PORT:-40300}
  scripts/s3/ceph-start.sh > /dev/null
  started=1
  export CAIRN_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT AWS_ACCESS_KEY_ID=testaccesskey AWS_SECRET_ACCESS_KEY=testsecretkey AWS_REGION=us-east-1
fi
trap '[ -n "$started" ] && scripts/s3/ceph-stop.sh > /dev/null' EXIT
node bench/storage.ts "${STORAGE_BENCH_MIB:-512}" > docs/benchmarks/storage.md.tmp
mv docs/benchmarks/storage.md.tmp docs/benchmarks/storage.md
cat docs/benchmarks/storage.md
