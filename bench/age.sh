#!/usr/bin/env bash
# age layer: seal/open MB/s and session costs → docs/benchmarks/age.md
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/benchmarks
node bench/age.ts "${AGE_BENCH_MIB:-512}" > docs/benchmarks/age.md.tmp
mv docs/benchmarks/age.md.tmp docs/benchmarks/age.md
cat docs/benchmarks/age.md
