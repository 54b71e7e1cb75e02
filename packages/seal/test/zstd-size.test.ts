import { randomBytes } from "node:crypto";
import { constants, zstdCompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { contentSize, decompressChunk, rawZstdFrame } from "../src/zstd.js";

describe("contentSize", () => {
  it("reads the size zstd and cairn's raw frames declare, for each field width", () => {
    for (const n of [0, 1, 200, 255, 256, 300, 65791, 65792, 1 << 20, 8 << 20]) {
      const data = Buffer.alloc(n, "a");
      expect(contentSize(zstdCompressSync(data, { pledgedSrcSize: n }))).toBe(n);
      expect(contentSize(rawZstdFrame(data))).toBe(n);
    }
  });

  it("is undefined for a frame that declares none, or what is not a zstd frame", () => {
    // A streamed frame without a pledged size records no content size.
    const streamed = zstdCompressSync(randomBytes(1000), { params: { [constants.ZSTD_c_contentSizeFlag]: 0 } });
    expect(contentSize(streamed)).toBeUndefined();
    expect(contentSize(Buffer.from("not zstd at all"))).toBeUndefined();
    expect(contentSize(rawZstdFrame(Buffer.alloc(10)).subarray(0, 6))).toBeUndefined();
  });
});

describe("decompressChunk", () => {
  it("still refuses output beyond its limit when the header understates the size", () => {
    const frame = Buffer.from(rawZstdFrame(Buffer.alloc(5000, 1)));
    frame.writeUInt32LE(100, 5); // declares 100 bytes, holds 5000
    expect(() => decompressChunk(frame, 1000, "chunk x")).toThrow(/more than 1000 bytes|not a valid zstd frame/);
  });

  it("decompresses what was compressed, whatever the size declared", () => {
    const data = randomBytes(300_000);
    expect(Buffer.compare(decompressChunk(zstdCompressSync(data, { pledgedSrcSize: data.length }), 1 << 20, "x"), data)).toBe(0);
    expect(Buffer.compare(decompressChunk(zstdCompressSync(data), 1 << 20, "x"), data)).toBe(0);
  });
});
