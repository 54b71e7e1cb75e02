import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FastCdc, chunkSizes, checkParams, deriveGear, masksFor } from "../src/index.js";
import { referenceCuts, referenceGear } from "./reference.js";
import { makeInput } from "./vectors/input.js";

const secret = Buffer.from("a chunker secret for the unit tests");
const small = { min: 256, avg: 1024, max: 4096 };

function cutsOf(sizes: number[]): number[] {
  let at = 0;
  return sizes.map((s) => (at += s));
}

/** Feeds data in the given piece sizes and collects absolute cut offsets. */
function cutsInPieces(data: Uint8Array, pieces: number[], params = small): number[] {
  const cdc = new FastCdc(secret, params);
  const cuts: number[] = [];
  let at = 0;
  let p = 0;
  while (at < data.length) {
    const n = Math.max(1, Math.min(pieces[p++ % pieces.length], data.length - at));
    for (const c of cdc.push(data.subarray(at, at + n))) cuts.push(at + c);
    at += n;
  }
  if (cdc.finish() > 0) cuts.push(data.length);
  return cuts;
}

describe("FastCdc", () => {
  it("derives the gear table as the spec says", () => {
    const table = deriveGear(secret);
    expect(Array.from(table, (w) => w >>> 0)).toEqual(referenceGear(secret));
  });

  it("cuts where a literal reading of the spec cuts", () => {
    const data = makeInput({ kind: "chacha20", seed: "reference", length: 300_000 });
    expect(cutsOf(chunkSizes(secret, data, small))).toEqual(referenceCuts(secret, data, small));
    const bigger = { min: 2048, avg: 8192, max: 65536 };
    expect(cutsOf(chunkSizes(secret, data, bigger))).toEqual(referenceCuts(secret, data, bigger));
  });

  it("cuts at the same places however the input is split into pieces", () => {
    const data = makeInput({ kind: "chacha20", seed: "pieces", length: 40_000 });
    const whole = cutsOf(chunkSizes(secret, data, small));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }), (pieces) => {
        expect(cutsInPieces(data, pieces)).toEqual(whole);
      }),
      { numRuns: 60 },
    );
    expect(cutsInPieces(data, [1])).toEqual(whole);
  });

  it("keeps every chunk but the last between min + 1 and max bytes", () => {
    const data = makeInput({ kind: "chacha20", seed: "bounds", length: 500_000 });
    const sizes = chunkSizes(secret, data, small);
    for (const s of sizes.slice(0, -1)) {
      expect(s).toBeGreaterThan(small.min);
      expect(s).toBeLessThanOrEqual(small.max);
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(data.length);
  });

  it("ends chunks at max when the content has no cut point", () => {
    const sizes = chunkSizes(secret, new Uint8Array(3 * 4096 + 100), small);
    expect(sizes).toEqual([4096, 4096, 4096, 100]);
  });

  it("makes a mean chunk size near avg on random data when min is avg / 2, as by default", () => {
    const params = { min: 512, avg: 1024, max: 8192 };
    const data = makeInput({ kind: "chacha20", seed: "mean", length: 4 << 20 });
    const sizes = chunkSizes(secret, data, params).slice(0, -1);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(mean).toBeGreaterThan(0.93 * params.avg);
    expect(mean).toBeLessThan(1.03 * params.avg);
  });

  it("cuts differently under another secret", () => {
    const data = makeInput({ kind: "chacha20", seed: "keyed", length: 100_000 });
    expect(chunkSizes(secret, data, small)).not.toEqual(chunkSizes(Buffer.from("another secret"), data, small));
  });

  it("uses the masks of normalization level 2", () => {
    const m = masksFor({ min: 512 << 10, avg: 1 << 20, max: 8 << 20 });
    expect(m.maskS >>> 0).toBe(0xfffffc00); // 22 bits
    expect(m.maskL >>> 0).toBe(0xffffc000); // 18 bits
    expect(m.normal).toBe(768 << 10);
  });

  it("refuses parameters it cannot honour", () => {
    expect(() => checkParams({ min: 1024, avg: 3000, max: 8192 })).toThrow(/power of two/);
    expect(() => checkParams({ min: 4096, avg: 4096, max: 8192 })).toThrow(/min < avg < max/);
    expect(() => checkParams({ min: 1 << 20, avg: 2 << 20, max: 32 << 20 })).toThrow(/at most/);
    expect(() => checkParams({ min: 16, avg: 64, max: 128 })).toThrow(/at least 64/);
    expect(() => new FastCdc(secret, { min: 0.5 })).toThrow(/whole number/);
  });
});
