#!/usr/bin/env bash
# Gathers docs/benchmarks/*.md into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# Benchmarks"
  echo
  echo "Measured on this project's 2-core, 24 GiB machines with \`make bench\` (all) or"
  echo "\`bash bench/run.sh AREA\` (one area). Each section names the command that produced it."
  echo "Nothing here is asserted by a test: tests check behaviour, benchmarks measure speed."
  for f in docs/benchmarks/*.md; do
    [ -e "$f" ] || continue
    echo
    # One heading level down (outside code blocks), so each area is a section of this page.
    awk '/^```/ {code = !code} !code && /^#/ {print "#" $0; next} {print}' "$f"
  done
} > docs/benchmarks.md
