#!/usr/bin/env bash
# Stream protocol throughput through one pipe hop; writes docs/benchmarks/protocol.md.
# Usage: bash bench/protocol.sh [BYTES] [RUNS]   (default 1 GiB, best of 3)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
bytes=${1:-1073741824}
runs=${2:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tsc -b packages/protocol

# Runs "WRITER | READER" RUNS times; prints the best wall MB/s and each side's CPU-s/GiB of that run.
measure() {
  local writer=$1 reader=$2 best=0 line=""
  for _ in $(seq "$runs"); do
    node bench/protocol.ts $writer 2>"$tmp/w" | node bench/protocol.ts $reader 2>"$tmp/r" >/dev/null
    local mbs wcpu rcpu
    read -r _ _ _ mbs rcpu <"$tmp/r"
    read -r _ _ _ _ wcpu <"$tmp/w"
    if [ "$mbs" -gt "$best" ]; then best=$mbs; line="| $best | $wcpu | $rcpu |"; fi
  done
  echo "$line"
}

node bench/protocol.ts encode "$bytes" >"$tmp/stream.bin" 2>/dev/null
file_best=0; file_cpu=""
for _ in $(seq "$runs"); do
  node bench/protocol.ts decode lib <"$tmp/stream.bin" 2>"$tmp/r"
  read -r _ _ _ mbs rcpu <"$tmp/r"
  if [ "$mbs" -gt "$file_best" ]; then file_best=$mbs; file_cpu=$rcpu; fi
done

raw=$(measure "raw $bytes" "drain process")
old=$(measure "encode $bytes" "decode fs1m")
proc=$(measure "encode $bytes" "decode process")
lib=$(measure "encode $bytes" "decode lib")
load=$(cut -d' ' -f1-3 /proc/loadavg)

cat >docs/benchmarks/protocol.md <<MD
# Stream protocol: one pipe hop

\`bash bench/protocol.sh $bytes $runs\` ($(date -u +%Y-%m-%d), $(nproc) cores, Node $(node --version),
load average at the end: $load). Each row pipes $((bytes / 1048576)) MiB of file content, in 1 MiB
DATA frames, from one Node process to another (\`node bench/protocol.ts encode $bytes | node
bench/protocol.ts decode METHOD\`); best wall-clock rate of $runs runs, and the CPU seconds per GiB
each side spent in that run. CPU-s/GiB is the steadier number when the machine is shared.

| pipeline | MB/s | writer CPU-s/GiB | reader CPU-s/GiB |
|---|---|---|---|
| bare hop: raw 1 MiB writes \\| process.stdin, no framing | ${raw#| } 
| encode \\| decode, stdin via fs.createReadStream(fd 0, 1 MiB) (the first version) | ${old#| }
| encode \\| decode, stdin via process.stdin | ${proc#| }
| encode \\| decode, \`stdinChunks()\` (the library: process.stdin for a pipe) | ${lib#| }
| decode only, \`stdinChunks()\` reading a regular file (fs, 1 MiB blocks) | $file_best | – | $file_cpu |

Reading a pipe with fs.createReadStream costs a thread-pool round trip and a 1 MiB allocation
(then a shrinking copy) per read, and a pipe hands over at most 64 KiB per read; process.stdin
reads the pipe without blocking on the event loop. So \`stdinChunks()\` uses process.stdin for
pipes, sockets and terminals, and fs.createReadStream with 1 MiB blocks for a regular file.
The codec's own cost is CRC-32 on both sides (node:zlib, about 0.5–0.7 s per GiB here) plus, on
the reading side, one copy of each frame that spans several pipe reads.
MD
cat docs/benchmarks/protocol.md
