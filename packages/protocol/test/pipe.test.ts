// pipeChunks on a real pipe (a FIFO): every byte arrives in order, a slow reader holds the
// writer back, and ByteReader joins adjacent slab views into frames without copying.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants, createWriteStream, openSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FrameType, decodeFrames, encodeFrames, pipeChunks, type Frame } from "@cairn/protocol";
import { tempDir } from "../../../test/helpers/cli.js";
import { collect } from "./helpers.js";

const dir = tempDir("cairn-pipe-");
afterAll(() => dir.cleanup());
let fifos = 0;

/** A FIFO opened at both ends: the read end's descriptor, and a write stream on the other. */
async function fifo() {
  const path = join(dir.path, `fifo${fifos++}`);
  expect(spawnSync("mkfifo", [path]).status).toBe(0);
  const writing = open(path, "w"); // blocks (in the thread pool) until the read end opens
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = await writing;
  return { readFd, out: createWriteStream("", { fd: writer, highWaterMark: 64 * 1024 }) };
}

async function write(out: NodeJS.WritableStream, chunks: Iterable<Uint8Array>, progress: (n: number) => void) {
  for (const chunk of chunks) {
    await new Promise<void>((resolve, reject) => out.write(chunk, (err) => (err ? reject(err) : resolve())));
    progress(chunk.length);
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

describe("pipeChunks", () => {
  it("reads every byte from a real pipe, in order", async () => {
    const data = randomBytes(9 * 1024 * 1024 + 17);
    const { readFd, out } = await fifo();
    const writing = write(out, [data.subarray(0, 5_000_000), data.subarray(5_000_000)], () => {});
    const got = await collect(pipeChunks(readFd));
    await writing;
    expect(Buffer.from(got).equals(data)).toBe(true);
  });

  it("decodes frames from a pipe, large frames as views of the read slabs", async () => {
    const frames: Frame[] = [{ type: FrameType.START, meta: { stream: "plain" } }];
    for (let i = 0; i < 6; i++) frames.push({ type: FrameType.DATA, data: randomBytes(1 << 20) });
    frames.push({ type: FrameType.DATA, data: randomBytes(100) }, { type: FrameType.END, meta: {} });
    const bytes = await collect(encodeFrames(frames));
    const { readFd, out } = await fifo();
    const writing = write(out, [bytes], () => {});
    const got: Frame[] = [];
    for await (const f of decodeFrames(pipeChunks(readFd))) got.push(f);
    await writing;
    expect(got).toHaveLength(frames.length);
    for (let i = 1; i <= 7; i++) expect(Buffer.from(got[i].data!).equals(Buffer.from(frames[i].data!))).toBe(true);
    // Most 1 MiB frames lie inside one 4 MiB slab: returned as views, not copies.
    expect(got.slice(1, 7).filter((f) => f.data!.buffer.byteLength > f.data!.length).length).toBeGreaterThan(0);
    // The 100-byte frame is copied out (into Node's small-buffer pool), so keeping it does not pin a 4 MiB slab.
    expect(got[7].data!.buffer.byteLength).toBeLessThan(1024 * 1024);
  });

  it("with borrow, frees each slab once the consumer is past it, and every frame arrives intact", async () => {
    const frames: Frame[] = [{ type: FrameType.START, meta: { stream: "plain" } }];
    for (let i = 0; i < 20; i++) frames.push({ type: FrameType.DATA, data: randomBytes(1_100_000 + i * 1000) }); // views: over a quarter of a slab
    frames.push({ type: FrameType.END, meta: {} });
    const bytes = await collect(encodeFrames(frames));
    const { readFd, out } = await fifo();
    const writing = write(out, [bytes], () => {});
    const kept: Uint8Array[] = [];
    let intact = 0;
    for await (const f of decodeFrames(pipeChunks(readFd), { borrow: true })) {
      if (f.type !== FrameType.DATA) continue;
      if (Buffer.from(f.data!).equals(Buffer.from(frames[kept.length + 1].data!))) intact++;
      kept.push(f.data!);
    }
    await writing;
    expect(intact).toBe(20);
    // Frames kept past the next read were views of slabs that are freed now (read as empty).
    expect(kept.slice(0, 5).some((d) => d.length === 0 && (d.buffer as ArrayBuffer).detached)).toBe(true);
  });

  it("a slow reader bounds how far the writer gets ahead", async () => {
    const { readFd, out } = await fifo();
    const block = new Uint8Array(256 * 1024);
    let written = 0;
    let read = 0;
    let maxLead = 0;
    const writing = write(out, Array.from({ length: 128 }, () => block), (n) => {
      written += n;
      maxLead = Math.max(maxLead, written - read);
    });
    for await (const chunk of pipeChunks(readFd)) {
      read += chunk.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writing;
    expect(read).toBe(32 * 1024 * 1024);
    // The reader queues at most 4 MiB, the pipe holds 64 KiB more, plus the write in flight.
    expect(maxLead).toBeLessThanOrEqual(4 * 1024 * 1024 + 64 * 1024 + 2 * block.length);
  });
});
