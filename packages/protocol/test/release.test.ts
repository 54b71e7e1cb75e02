// Freeing memory early (docs/protocol.md is unchanged: this is how the library handles buffers):
// writeFrames frees a disposable frame's data once written; decodeFrames with `borrow` lets a
// file or pipe source free each slab as soon as the consumer is past it.
import { createHash, randomBytes } from "node:crypto";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { FrameType, decodeFrames, encodeFrames, fileChunks, sniff, writeFrames, type Frame } from "@cairn/protocol";
import { tempDir } from "../../../test/helpers/cli.js";
import { frameAlignedInput } from "../../../test/helpers/frames.js";
import { collect, decodeAll } from "./helpers.js";

const dir = tempDir("cairn-release-");
afterAll(() => dir.cleanup());

/** Digests stand for large buffers in assertions (comparing megabytes element by element is slow). */
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

const start: Frame = { type: FrameType.START, meta: { stream: "plain", host: "h", time: "t", label: "l", tags: [] } };
const end: Frame = { type: FrameType.END, meta: { entries: 0 } };

describe("writeFrames and Frame.dispose", () => {
  it("writes disposable frames intact, then frees the memory each one owns, and nothing it shares", async () => {
    const owned = [randomBytes(300_000), randomBytes(5000)].map((b) => new Uint8Array(b)); // each its own ArrayBuffer
    const expected = owned.map((b) => Buffer.from(b));
    const big = new Uint8Array(1 << 20).fill(3);
    const shared = big.subarray(0, 200_000); // a view: never freed, even if marked
    async function* frames(): AsyncGenerator<Frame> {
      yield start;
      for (const data of owned) yield { type: FrameType.DATA, data, dispose: true };
      yield { type: FrameType.DATA, data: shared, dispose: true };
      yield end;
    }
    const out = new PassThrough();
    const bytes = collect(out);
    await writeFrames("test", frames(), out);
    out.end();
    const decoded = (await decodeAll(await bytes)).frames;
    expect(decoded.filter((f) => f.type === FrameType.DATA).map((f) => sha(f.data!))).toEqual([...expected, big.subarray(0, 200_000)].map(sha));
    for (const data of owned) {
      expect(data.buffer.detached).toBe(true);
      expect(data.length).toBe(0);
    }
    expect(big.buffer.detached).toBe(false);
    expect(big[0]).toBe(3);
  });
});

describe("decodeFrames with borrow over fileChunks", () => {
  // Large frames and small ones (a small frame is a copy of its own unless the consumer borrows).
  const payloads = Array.from({ length: 20 }, (_, i) => randomBytes(i % 3 === 0 ? 900_000 : i % 3 === 1 ? 1_500_000 : 100_000));
  const frames: Frame[] = [start, ...payloads.map((data) => ({ type: FrameType.DATA, data })), end];

  async function decodeFile(borrow: boolean | "allButLast") {
    const path = join(dir.path, `stream-${borrow}`);
    writeFileSync(path, await collect(encodeFrames(frames)));
    const fd = openSync(path, "r");
    try {
      const kept: Uint8Array[] = [];
      const copies: Buffer[] = [];
      /** Per frame: was the frame before it still intact when it arrived? */
      const lastIntact: boolean[] = [];
      const { framed, input } = await sniff(fileChunks(fd));
      expect(framed).toBe(true);
      for await (const f of decodeFrames(input, { borrow })) {
        if (f.type !== FrameType.DATA) continue;
        if (kept.length > 0) lastIntact.push(sha(kept[kept.length - 1]) === sha(copies[copies.length - 1]));
        kept.push(f.data!);
        copies.push(Buffer.from(f.data!)); // what a borrowing consumer does before asking for more
      }
      return { kept, copies, lastIntact };
    } finally {
      closeSync(fd);
    }
  }

  const small = (i: number) => payloads[i].length === 100_000;

  it("delivers every frame intact, and frees the slabs the consumer is past", async () => {
    const { kept, copies } = await decodeFile(true);
    expect(copies.map(sha)).toEqual(payloads.map(sha));
    // Frames from the first slabs were views of memory that is gone now; the last one is not.
    expect(kept.slice(0, 3).some((d) => d.length === 0 && (d.buffer as ArrayBuffer).detached)).toBe(true);
    expect(sha(kept[kept.length - 1])).toBe(sha(payloads[payloads.length - 1]));
  });

  it("borrowing, gives small frames as views of the input too (no copy), freed like the rest", async () => {
    const { kept, copies } = await decodeFile(true);
    expect(copies.map(sha)).toEqual(payloads.map(sha));
    const smallOnes = kept.filter((_, i) => small(i));
    expect(smallOnes.length).toBeGreaterThan(5);
    // Each lay in a slab larger than itself; all but those in the last slabs are freed by now.
    expect(smallOnes.filter((d) => d.length === 0 && (d.buffer as ArrayBuffer).detached).length).toBeGreaterThan(smallOnes.length / 2);
  });

  it('with "allButLast" over a file: every frame arrives intact, none is freed while it is the last one given, and older slabs are freed', async () => {
    const { kept, copies, lastIntact } = await decodeFile("allButLast");
    expect(copies.map(sha)).toEqual(payloads.map(sha));
    expect(lastIntact).toHaveLength(payloads.length - 1);
    expect(lastIntact.every(Boolean)).toBe(true);
    expect(kept.slice(0, 3).some((d) => d.length === 0 && (d.buffer as ArrayBuffer).detached)).toBe(true);
  });

  for (const borrow of [true, "allButLast"] as const) {
    it(`with borrow ${JSON.stringify(borrow)}, ${borrow === true ? "frees each frame's memory when the next is asked for" : "frees a frame's memory only once the one after it is done with"}`, async () => {
      const input = await frameAlignedInput(frames);
      const seen: Uint8Array[] = [];
      const beforeIntact: boolean[] = [];
      for await (const f of decodeFrames(input, { borrow })) {
        if (seen.length > 0) beforeIntact.push(seen[seen.length - 1].length > 0);
        if (f.type === FrameType.DATA) {
          expect(sha(f.data!)).toBe(sha(payloads[seen.length]));
          seen.push(f.data!);
        }
      }
      expect(beforeIntact).toHaveLength(payloads.length);
      expect(beforeIntact.every((ok) => ok === (borrow === "allButLast"))).toBe(true);
      expect(seen.slice(0, -2).every((d) => (d.buffer as ArrayBuffer).detached)).toBe(true);
    });
  }

  it("frees nothing without borrow: kept frames stay readable, small ones in memory of their own", async () => {
    const { kept } = await decodeFile(false);
    expect(kept.map(sha)).toEqual(payloads.map(sha));
    for (const [i, d] of kept.entries()) if (small(i)) expect(d.buffer.byteLength).toBe(d.length);
  });
});
