#!/usr/bin/env bash
# cairn chunk alone: MB/s, CPU seconds, peak RSS, mean chunk size → docs/benchmarks/chunk.md
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/benchmarks
node bench/chunk.ts "${CHUNK_BENCH_MIB:-1024}" > docs/benchmarks/chunk.md.tmp
# Earlier runs against one another (written by hand, newest first) follow this run's numbers.
{ echo; cat bench/history/chunk.md; } >> docs/benchmarks/chunk.md.tmp
mv docs/benchmarks/chunk.md.tmp docs/benchmarks/chunk.md
cat docs/benchmarks/chunk.md
