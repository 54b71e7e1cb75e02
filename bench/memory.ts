// Two measurements behind the memory rules of the hot paths (docs/benchmarks/memory.md; bench/memory.sh
// writes it):
//  1. 1 GiB passed through in 1 MiB ArrayBuffers, each left to the garbage collector or freed
//     (transfer(0), as freeData does) once used: full collections, CPU seconds.
//  2. zstd decompression of 1 MiB chunks with node:zlib's default 16 KiB output pieces, and with
//     one piece of the size the frame declares: MB/s (faster here, slower in seal -d: see the page).
import { createCipheriv, createHash } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import { zstdCompressSync, zstdDecompressSync } from "node:zlib";

const MIB = 1 << 20;
let fullGcs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if ((e as any).detail?.kind === 4 /* NODE_PERFORMANCE_GC_MAJOR */) fullGcs++;
}).observe({ entryTypes: ["gc"] });

function cpuSeconds<T>(f: () => T): number {
  const t = process.cpuUsage();
  f();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / 1e6;
}

/** Some live heap, as a stage has (module code, maps): a full collection has to mark it. */
const live = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `entry ${i}`, a: [i, i + 1] }));

async function passThrough(free: boolean): Promise<{ cpu: number; fullGcs: number }> {
  await new Promise((r) => setTimeout(r, 100));
  const before = fullGcs;
  let sum = 0;
  const cpu = cpuSeconds(() => {
    for (let i = 0; i < 1024; i++) {
      const b = new Uint8Array(new ArrayBuffer(MIB));
      b[i] = 1; // the page is touched, as a real chunk's would be
      sum += b[i] + live.length;
      if (free) b.buffer.transfer(0);
    }
  });
  await new Promise((r) => setTimeout(r, 100)); // the observer reports collections asynchronously
  void sum;
  return { cpu, fullGcs: fullGcs - before };
}

function words(n: number): Buffer {
  const WORDS = "the of and to in is was for that with as on by at from his her it an be this are which or had not".split(" ");
  const r = createCipheriv("chacha20", createHash("sha256").update("memory bench").digest(), Buffer.alloc(16)).update(Buffer.alloc(n));
  const out = Buffer.allocUnsafe(n + 16);
  let at = 0;
  for (let i = 0; at < n; i++) {
    at += out.write(WORDS[r[i % n] % WORDS.length], at, "latin1");
    out[at++] = 0x20;
  }
  return out.subarray(0, n);
}

function decompressRate(onePiece: boolean, frames: Buffer[]): number {
  const cpu = cpuSeconds(() => {
    for (let round = 0; round < 4; round++)
      for (const f of frames) zstdDecompressSync(f, { maxOutputLength: MIB, ...(onePiece && { chunkSize: MIB }) });
  });
  return (4 * frames.length * MIB) / 1e6 / cpu;
}

const left = await passThrough(false);
const freed = await passThrough(true);
const text = words(64 * MIB);
const frames: Buffer[] = [];
for (let at = 0; at < text.length; at += MIB) frames.push(zstdCompressSync(text.subarray(at, at + MIB), { pledgedSrcSize: MIB }));
const rates = [false, true, false, true].map((one) => decompressRate(one, frames));

const when = new Date().toISOString().replace(/\.\d+Z$/, "Z");
console.log(`# Memory on the hot paths

\`bash bench/memory.sh\` (\`node bench/memory.ts\`), ${when}, ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}.

## Memory handed over: freed, or left to the garbage collector

1 GiB through 1 MiB ArrayBuffers, with 200 000 small live objects on the heap (as a stage has).
V8 counts each fresh ArrayBuffer as external memory and starts a full collection for about every
64 MB of it still attached; \`transfer(0)\` (\`freeData\` in @cairn/protocol) detaches it now, so
the count falls back.

| buffers | full collections | CPU s |
|---|---|---|
| left to the collector | ${left.fullGcs} | ${left.cpu.toFixed(2)} |
| freed once used | ${freed.fullGcs} | ${freed.cpu.toFixed(2)} |

In a fused restore of 1 GiB (bench/compare's data, \`node --trace-gc\`), freeing what stages hand
over (pull's objects moved to the opening workers, chunk -d's window freed on eviction, each DATA
block freed once written) took the full collections from 95 to 57 (most of the rest are the
opening workers' own, one per 32 chunks) and the run from ~20 to ~13 CPU s.

## zstd output in one piece

64 MiB of word text in 1 MiB chunks (ratio ~0.3), each decompressed 4 times: MB/s of output.

| output | MB/s (two runs) |
|---|---|
| 16 KiB pieces joined at the end (node:zlib's default) | ${rates[0].toFixed(0)}, ${rates[2].toFixed(0)} |
| one piece of the declared content size | ${rates[1].toFixed(0)}, ${rates[3].toFixed(0)} |

Faster per call here, yet slower where it counts: \`cairn seal -d -i OWNER --writers W <
SEALED_1GiB > /dev/null\` interleaved 4 × each way (2026-11-27 18:50 UTC) took 8.2–9.3 CPU-s and
258–281 MiB with one piece against 7.2–8.3 CPU-s and 233–259 MiB with 16 KiB pieces. Session 2 had measured the same and traced
it to more V8 marking (commit cf0a216), so \`decompressChunk\` keeps node:zlib's default.
`);
