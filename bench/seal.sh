#!/usr/bin/env bash
# cairn seal alone and snapshot | chunk | seal: MB/s, CPU seconds, peak RSS → docs/benchmarks/seal.md
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/benchmarks
node bench/seal.ts "${SEAL_BENCH_MIB:-1024}" > docs/benchmarks/seal.md.tmp
# Earlier runs against one another (written by hand, newest first) follow this run's numbers.
{ echo; cat bench/history/seal.md; } >> docs/benchmarks/seal.md.tmp
mv docs/benchmarks/seal.md.tmp docs/benchmarks/seal.md
cat docs/benchmarks/seal.md
