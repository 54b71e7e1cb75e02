import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EntryCutter, HASH_HERE_EVERY } from "../src/cut-worker.js";
import { chunkSizes, checkParams } from "../src/index.js";
import { makeInput } from "./vectors/input.js";

const chunkerSecret = Buffer.from("a chunker secret for the cutter tests");
const idKey = Buffer.from("an id key for the cutter tests");
const params = checkParams({ min: 256, avg: 1024, max: 4096 });

/** Cuts `data` as one entry fed in segments of the given sizes (each in a buffer of its own). */
function cutInSegments(cutter: EntryCutter, data: Uint8Array, sizes: number[]) {
  const payloads: Uint8Array[] = [];
  const unhashed: boolean[] = [];
  const sent = new Set<ArrayBuffer>();
  const spares: ArrayBuffer[] = [];
  let at = 0;
  for (let s = 0; ; s++) {
    const n = Math.min(sizes[s % sizes.length], data.length - at);
    const buffer = new ArrayBuffer(Math.max(n, 1) + 7); // a segment is usually not full
    new Uint8Array(buffer).set(data.subarray(at, at + n));
    sent.add(buffer);
    at += n;
    const cuts = cutter.cut({ buffer, length: n, final: at === data.length });
    cuts.chunks.forEach((c, i) => {
      payloads.push(new Uint8Array(c));
      unhashed.push(cuts.unhashed.includes(i));
    });
    spares.push(...cuts.spares);
    if (at === data.length) break;
  }
  return { payloads, unhashed, sent, spares };
}

describe("EntryCutter (the chunk stage's cutting thread)", () => {
  it("cuts where FastCDC cuts however the entry is split into segments, its share of the ids included, and hands every segment back once", () => {
    const data = makeInput({ kind: "chacha20", seed: "cutter", length: 40_000 });
    const expected = chunkSizes(chunkerSecret, data, params);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 6 }), (sizes) => {
        const cutter = new EntryCutter({ idKey, chunkerSecret, params });
        let made = 0; // chunks of the stream so far: the thread computes the id of every HASH_HERE_EVERY-th
        // Two entries in a row: the second starts from a fresh chunker state.
        for (const entry of [data, data.subarray(0, 5000)]) {
          const { payloads, unhashed, sent, spares } = cutInSegments(cutter, entry, sizes);
          expect(payloads.map((p) => p.length - 32)).toEqual(entry === data ? expected : chunkSizes(chunkerSecret, entry, params));
          let at = 0;
          payloads.forEach((p, i) => {
            const plain = p.subarray(32);
            expect(Buffer.compare(plain, entry.subarray(at, at + plain.length))).toBe(0);
            // The rest are left to the stage's thread (cutter.ts), which the stage tests check.
            expect(unhashed[i]).toBe(made++ % HASH_HERE_EVERY !== 0);
            if (!unhashed[i]) expect(Buffer.from(p.subarray(0, 32))).toEqual(createHmac("sha256", idKey).update(plain).digest());
            at += plain.length;
          });
          expect(new Set(spares).size).toBe(spares.length);
          expect(new Set(spares)).toEqual(sent);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("ends an entry whose last segment is empty with the chunk still held", () => {
    const data = makeInput({ kind: "chacha20", seed: "held", length: 3000 });
    const cutter = new EntryCutter({ idKey, chunkerSecret, params });
    const first = cutter.cut({ buffer: Uint8Array.from(data).buffer, length: data.length, final: false });
    const last = cutter.cut({ buffer: new ArrayBuffer(16), length: 0, final: true });
    const all = [...first.chunks, ...last.chunks].map((c) => new Uint8Array(c).length - 32);
    expect(all).toEqual(chunkSizes(chunkerSecret, data, params));
    expect(first.spares.length + last.spares.length).toBe(2);
  });
});
