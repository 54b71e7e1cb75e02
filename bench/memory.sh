#!/usr/bin/env bash
# Memory handling on the hot paths: freeing handed-over buffers against leaving them to V8, and
# zstd output in one piece against 16 KiB pieces → docs/benchmarks/memory.md
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/benchmarks
node bench/memory.ts > docs/benchmarks/memory.md.tmp
mv docs/benchmarks/memory.md.tmp docs/benchmarks/memory.md
cat docs/benchmarks/memory.md
