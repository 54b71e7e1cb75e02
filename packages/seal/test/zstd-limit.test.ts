import { randomBytes } from "node:crypto";
import { zstdCompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decompressChunk, rawZstdFrame } from "../src/zstd.js";

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
