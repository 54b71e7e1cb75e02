// Stream protocol throughput (docs/benchmarks/protocol.md; bench/protocol.sh runs the matrix).
//   node bench/protocol.ts encode BYTES [FRAME]   writes a plain stream of BYTES content in DATA frames to stdout
//   node bench/protocol.ts decode [METHOD]        decodes stdin, prints "bytes seconds MB/s" on stderr
//   node bench/protocol.ts raw BYTES [FRAME]       writes BYTES raw (no framing) to stdout
//   node bench/protocol.ts drain [METHOD]          reads stdin and discards it (the bare pipe hop)
//   node bench/protocol.ts crc                     CRC-32 speed: node:zlib's against the frames' own (a table on stdout)
// METHOD is how stdin is read: fs1m (fs.createReadStream on fd 0, 1 MiB blocks), fs64k,
// process (process.stdin async iteration), lib (the library's stdinChunks()).
import { createReadStream } from "node:fs";
import { crc32 as zlibCrc32 } from "node:zlib";
import { FrameType, crc32, decodeFrames, nativeCrc32, stdinChunks, writeAll, writeFrames, type Frame } from "@cairn/protocol";

const [mode, arg1, arg2] = process.argv.slice(2);

function input(method = "lib"): AsyncIterable<Uint8Array> {
  switch (method) {
    case "fs1m":
      return createReadStream("", { fd: 0, highWaterMark: 1 << 20, autoClose: false });
    case "fs64k":
      return createReadStream("", { fd: 0, highWaterMark: 64 << 10, autoClose: false });
    case "process":
      return process.stdin;
    case "lib":
      return stdinChunks();
    default:
      throw new Error(`unknown method ${method}`);
  }
}

/** One line on stderr: "ROLE bytes wall-seconds MB/s cpu-seconds-per-GiB". */
function report(role: string, bytes: number, started: bigint): void {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage();
  const cpuPerGiB = (cpu.user + cpu.system) / 1e6 / (bytes / 2 ** 30);
  process.stderr.write(`${role} ${bytes} ${seconds.toFixed(3)} ${(bytes / seconds / 1e6).toFixed(0)} ${cpuPerGiB.toFixed(2)}\n`);
}

async function* content(total: number, frameSize: number): AsyncGenerator<Frame> {
  // One buffer, sent again and again: this measures the protocol and the pipe, not allocation.
  const block = new Uint8Array(frameSize).fill(0x5a);
  yield { type: FrameType.START, meta: { stream: "plain", host: "bench", time: new Date().toISOString(), label: "bench", tags: [] } };
  yield { type: FrameType.ENTRY, meta: { kind: "file", path: "big", mode: 0o100644, mtime: "0" } };
  for (let sent = 0; sent < total; sent += frameSize) yield { type: FrameType.DATA, data: sent + frameSize <= total ? block : block.subarray(0, total - sent) };
  yield { type: FrameType.ENTRY_END, meta: { size: total, sha256: "" } };
  yield { type: FrameType.END, meta: { entries: 1 } };
}

async function* raw(total: number, frameSize: number): AsyncGenerator<Uint8Array> {
  const block = new Uint8Array(frameSize).fill(0x5a);
  for (let sent = 0; sent < total; sent += frameSize) yield block;
}

const started = process.hrtime.bigint();
if (mode === "encode") {
  await writeFrames("bench", content(Number(arg1), Number(arg2 ?? 1 << 20)));
  report("writer", Number(arg1), started);
} else if (mode === "raw") {
  await writeAll(raw(Number(arg1), Number(arg2 ?? 1 << 20)));
  report("writer", Number(arg1), started);
} else if (mode === "decode") {
  let bytes = 0;
  for await (const frame of decodeFrames(input(arg1))) if (frame.data) bytes += frame.data.length;
  report("reader", bytes, started);
} else if (mode === "drain") {
  let bytes = 0;
  for await (const chunk of input(arg1)) bytes += chunk.length;
  report("reader", bytes, started);
} else if (mode === "crc") {
  // GiB/s over 512 MiB of the same random buffer in pieces of each size, best of 3.
  const buffer = new Uint8Array(1 << 20).map(() => (Math.random() * 256) | 0);
  const rate = (f: (b: Uint8Array, c: number) => number, size: number) => {
    let best = 0;
    for (let round = 0; round < 3; round++) {
      const piece = buffer.subarray(0, size);
      const n = Math.floor((512 << 20) / size);
      const t = process.hrtime.bigint();
      let c = 0;
      for (let i = 0; i < n; i++) c = f(piece, c);
      best = Math.max(best, (n * size) / 2 ** 30 / (Number(process.hrtime.bigint() - t) / 1e9));
    }
    return best.toFixed(2);
  };
  console.log(`| piece | node:zlib crc32 GiB/s | frames' crc32 (native: ${nativeCrc32}) GiB/s |\n|---|---|---|`);
  for (const size of [33, 1024, 65536, 1 << 20]) console.log(`| ${size} B | ${rate((b, c) => zlibCrc32(b, c), size)} | ${rate((b, c) => crc32(b, c), size)} |`);
} else {
  process.stderr.write("usage: node bench/protocol.ts encode|raw BYTES [FRAME] | decode|drain [METHOD] | crc\n");
  process.exit(2);
}
