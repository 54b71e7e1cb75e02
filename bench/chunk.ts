// `cairn chunk` alone: MB/s, CPU seconds and peak RSS on mixed data (docs/benchmarks/chunk.md;
// bench/chunk.sh writes it).
//   node bench/chunk.ts [MiB]   (default 1024) prints the results as a Markdown section on stdout
// The input is a plain stream file (what `cairn snapshot` writes) of 8 files: half of the bytes
// random (incompressible), half pseudo-text (words drawn at random, so nothing repeats by accident),
// in 1 MiB DATA frames. `cairn chunk -k W < FILE > /dev/null` runs as a real process, 3 times.
import { execFileSync, spawnSync } from "node:child_process";
import { createCipheriv, createHash } from "node:crypto";
import { existsSync, mkdirSync, openSync, closeSync, writeFileSync, writeSync, readFileSync, statSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { createOwnerKey, createWriterKey, parseOwnerKey } from "@cairn/keys";
import { FrameEncoder, FrameType, decodeFrames, type Frame } from "@cairn/protocol";
import { FastCdc, chunkId, chunkStream } from "@cairn/chunk";

const mib = Number(process.argv[2] ?? 1024);
const root = new URL("..", import.meta.url).pathname;
const out = join(root, "bench/out/chunk");
mkdirSync(out, { recursive: true });
const plain = join(out, `mixed-${mib}M.plain`);
const cairn = join(root, "packages/cairn/bin/cairn.js");

const WORDS = "the of and to in is was for that with as on by at from his her it an be this are which or had not but were have one all their they been has its more who would when will there if can no out so what up into only other some time than them new also two first may any these most over such after very".split(" ");

function randomBlock(seed: string, n: number): Buffer {
  const key = createHash("sha256").update(seed).digest();
  return createCipheriv("chacha20", key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** Pseudo-text: words picked by a keystream, so no two MiB are alike. */
function textBlock(seed: string, n: number): Buffer {
  const r = randomBlock(seed, n);
  const outBuf = Buffer.allocUnsafe(n + 16);
  let at = 0;
  for (let i = 0; at < n; i++) {
    const w = WORDS[r[i % n] % WORDS.length];
    at += outBuf.write(w, at, "latin1");
    outBuf[at++] = r[(i + 7) % n] % 13 === 0 ? 0x0a : 0x20;
  }
  return outBuf.subarray(0, n);
}

function makeInput(): void {
  if (existsSync(plain)) return;
  const fd = openSync(plain + ".tmp", "w");
  const enc = new FrameEncoder();
  const put = (f: Frame) => { for (const p of enc.encode(f)) writeSync(fd, p); };
  put({ type: FrameType.START, meta: { stream: "plain", host: "bench", time: new Date().toISOString(), label: "bench", tags: [] } });
  const files = 8;
  const perFile = (mib / files) << 20;
  for (let f = 0; f < files; f++) {
    const text = f % 2 === 1;
    put({ type: FrameType.ENTRY, meta: { kind: "file", path: `f${f}.${text ? "txt" : "bin"}`, mode: 0o644, mtime: "0" } });
    const sha = createHash("sha256");
    for (let at = 0; at < perFile; at += 1 << 20) {
      const block = text ? textBlock(`text ${f} ${at}`, 1 << 20) : randomBlock(`random ${f} ${at}`, 1 << 20);
      sha.update(block);
      put({ type: FrameType.DATA, data: block });
    }
    put({ type: FrameType.ENTRY_END, meta: { size: perFile, sha256: sha.digest("hex") } });
  }
  put({ type: FrameType.END, meta: { entries: files, partial: 0 } });
  closeSync(fd);
  execFileSync("mv", [plain + ".tmp", plain]);
}

async function keys(): Promise<string> {
  const path = join(out, "writer.key");
  if (!existsSync(path)) {
    const owner = await createOwnerKey();
    writeFileSync(path, createWriterKey(await parseOwnerKey(owner.text, "bench")).text, { mode: 0o600 });
  }
  return path;
}

interface Run { wall: number; cpu: number; rssMiB: number }

function run(args: string, input: string, output = "/dev/null"): Run {
  const r = spawnSync("bash", ["-c", `/usr/bin/time -f '%e %U %S %M' node ${cairn} ${args} < ${input} > ${output}`], { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`cairn ${args} failed: ${r.stderr}`);
  const [wall, user, sys, rss] = r.stderr.toString().trim().split("\n").at(-1)!.split(" ").map(Number);
  return { wall, cpu: user + sys, rssMiB: rss / 1024 };
}

async function lastFrame(file: string): Promise<Record<string, any>> {
  let last: Frame | undefined;
  const { createReadStream } = await import("node:fs");
  for await (const f of decodeFrames(createReadStream(file, { highWaterMark: 1 << 20 }))) last = f;
  return last!.meta!;
}

makeInput();
const writer = await keys();
const bytes = statSync(plain).size;
const contentBytes = mib << 20;
const runs = [0, 1, 2].map(() => run(`chunk -k ${writer}`, plain));
const chunked = join(out, "chunked.tmp");
run(`chunk -k ${writer}`, plain, chunked);
const end = await lastFrame(chunked);
const dec = [0, 1].map(() => run(`chunk -d -k ${writer}`, chunked));
execFileSync("rm", ["-f", chunked]);

/** In-process: the library alone on 256 MiB held in memory (no pipes, no frame codec). */
async function inProcess(): Promise<Record<"cdc" | "mac" | "stage", { wall: number; cpu: number }>> {
  const size = 256 << 20;
  const data = Buffer.concat([randomBlock("in-process", size / 2), textBlock("in-process text", size / 2)]);
  const secret = Buffer.alloc(32, 7);
  const best = { cdc: { wall: Infinity, cpu: Infinity }, mac: { wall: Infinity, cpu: Infinity }, stage: { wall: Infinity, cpu: Infinity } };
  async function time(part: keyof typeof best, f: () => void | Promise<void>): Promise<void> {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    await f();
    const cpu = process.cpuUsage(c);
    best[part].wall = Math.min(best[part].wall, Number(process.hrtime.bigint() - t) / 1e9);
    best[part].cpu = Math.min(best[part].cpu, (cpu.user + cpu.system) / 1e6);
  }
  async function* frames(): AsyncGenerator<Frame> {
    yield { type: FrameType.START, meta: { stream: "plain", host: "b", time: "", label: "b", tags: [] } };
    yield { type: FrameType.ENTRY, meta: { kind: "file", path: "f", mode: 0o644, mtime: "0" } };
    for (let at = 0; at < size; at += 1 << 20) yield { type: FrameType.DATA, data: data.subarray(at, at + (1 << 20)) };
    yield { type: FrameType.ENTRY_END, meta: { size, sha256: "" } };
    yield { type: FrameType.END, meta: { entries: 1 } };
  }
  for (let rep = 0; rep < 3; rep++) {
    await time("cdc", () => {
      const cdc = new FastCdc(secret);
      for (let at = 0; at < size; at += 1 << 20) cdc.push(data.subarray(at, at + (1 << 20)));
    });
    await time("mac", () => {
      for (let at = 0; at < size; at += 1 << 20) chunkId(secret, data.subarray(at, at + (1 << 20)));
    });
    await time("stage", async () => {
      for await (const _ of chunkStream(frames(), { idKey: secret, chunkerSecret: secret }));
    });
  }
  const r = (x: { wall: number; cpu: number }) => ({ wall: size / x.wall / 1e6, cpu: size / x.cpu / 1e6 });
  return { cdc: r(best.cdc), mac: r(best.mac), stage: r(best.stage) };
}

const lib = await inProcess();
const best = (rs: Run[]) => rs.reduce((a, b) => (b.wall < a.wall ? b : a));
const mbps = (r: Run) => (contentBytes / r.wall / 1e6).toFixed(0);
const cpuMbps = (r: Run) => (contentBytes / r.cpu / 1e6).toFixed(0);
const b = best(runs);
const d = best(dec);
const meanChunk = end.plainBytes / (end.chunks + end.refs);
const load = loadavg().map((x) => x.toFixed(1)).join(" ");
console.log(`# chunk

Command: \`bash bench/chunk.sh\` (= \`node bench/chunk.ts ${mib}\`), which times
\`cairn chunk -k WRITER_KEY < INPUT > /dev/null\` as a real process (best of 3, /usr/bin/time).
INPUT: a plain stream of ${mib} MiB of content in 8 files, half random bytes, half pseudo-text, in
1 MiB DATA frames (${(bytes / 1048576).toFixed(0)} MiB with framing). Default sizes (min 512 KiB, avg 1 MiB, max 8 MiB).
Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}; load average ${load} at the end
(other work on the machine slows these numbers; CPU-time throughput is less sensitive to it).

| run | wall MB/s | CPU s (user+sys) | MB per CPU-s | peak RSS MiB |
|---|---|---|---|---|
| \`cairn chunk\` (best of 3) | ${mbps(b)} | ${b.cpu.toFixed(2)} | ${cpuMbps(b)} | ${Math.max(...runs.map((r) => r.rssMiB)).toFixed(0)} |
| \`cairn chunk -d\` (best of 2) | ${mbps(d)} | ${d.cpu.toFixed(2)} | ${cpuMbps(d)} | ${Math.max(...dec.map((r) => r.rssMiB)).toFixed(0)} |

In process (\`node bench/chunk.ts\`, 256 MiB in memory, half random half text, best of 3):

| part | wall MB/s | MB per CPU-s (all threads) |
|---|---|---|
| \`FastCdc.push\` alone (cut points, skip-min) | ${lib.cdc.wall.toFixed(0)} | ${lib.cdc.cpu.toFixed(0)} |
| \`chunkId\` alone (HMAC-SHA256, node:crypto, 1 MiB) | ${lib.mac.wall.toFixed(0)} | ${lib.mac.cpu.toFixed(0)} |
| \`chunkStream\` stage (cut, copy, ids on the worker thread, window) | ${lib.stage.wall.toFixed(0)} | ${lib.stage.cpu.toFixed(0)} |

All runs (wall s): chunk ${runs.map((r) => r.wall.toFixed(2)).join(", ")}; chunk -d ${dec.map((r) => r.wall.toFixed(2)).join(", ")}.

Chunks: ${end.chunks} CHUNK + ${end.refs} CHUNK_REF over ${end.plainBytes} bytes: mean chunk size
${(meanChunk / 1048576).toFixed(3)} MiB (each file's last chunk included). Goals: ≥ 500 MB/s, < 150 MiB RSS.

Where the work runs (docs/chunking.md): the stage's thread decodes (CRC-32 of every input frame),
copies DATA into 2 MiB segments and encodes CHUNK frames (CRC-32 again); the cutting thread runs
FastCDC, copies each chunk into its payload and computes every other chunk's id (the stage's
thread computes the rest). On two cores the wall time is
close to the busier of the two plus the file reads. Memory: Node itself ~50 MiB, the cutting
thread ~15 MiB, segments and chunks in flight ~20 MiB; input slabs and written chunks are freed
as soon as they are used (decodeFrames with borrow, Frame.dispose), not left to the collector.
\`chunk -d\` keeps up to the reference window (64 MiB) of chunk data to resolve CHUNK_REF frames.`);
