#!/usr/bin/env bash
# `make bench`: runs every benchmark under bench/ (each records its own results in
# docs/benchmarks/<area>.md), then gathers them into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
only=${1:-}
for b in bench/*.sh; do
  [ "$b" = bench/run.sh ] && continue
  name=$(basename "$b" .sh)
  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  echo "== bench: $name" >&2
  bash "$b"
done
bash bench/gather.sh
