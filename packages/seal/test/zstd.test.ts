import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { zstdDecompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compressChunk, decompressChunk, looksIncompressible, rawZstdFrame } from "../src/zstd.js";

const text = (n: number) => Buffer.from("the quick brown fox jumps over the lazy dog\n".repeat(Math.ceil(n / 44)).slice(0, n));

describe("raw zstd frames", () => {
  for (const size of [0, 1, 255, 131072, 131073, 3 * 131072 + 17]) {
    it(`store ${size} bytes that node:zlib decompresses exactly`, () => {
      const data = randomBytes(size);
      const frame = rawZstdFrame(data);
      expect(frame.length).toBe(9 + Math.max(1, Math.ceil(size / 131072)) * 3 + size);
      expect(Buffer.compare(zstdDecompressSync(frame), data)).toBe(0);
    });
  }

  it("are read by the zstd command-line tool", () => {
    const data = randomBytes(300_000);
    const r = spawnSync("zstd", ["-d", "-c"], { input: rawZstdFrame(data) });
    expect(r.status).toBe(0);
    expect(Buffer.compare(r.stdout, data)).toBe(0);
  });

  it("match a checked-in vector (header, block headers, content)", () => {
    expect(Buffer.from(rawZstdFrame(Buffer.from("abc"))).toString("hex")).toBe("28b52ffda003000000190000616263");
  });
});

describe("compressChunk", () => {
  it("skips the compressor for random data and still yields a valid frame", () => {
    const data = randomBytes(1 << 20);
    expect(looksIncompressible(data)).toBe(true);
    const frame = compressChunk(data, 3);
    expect(frame[4]).toBe(0xa0); // the raw frame's header: no compressor ran
    expect(Buffer.compare(zstdDecompressSync(frame), data)).toBe(0);
  });

  it("compresses text", () => {
    const data = text(1 << 20);
    expect(looksIncompressible(data)).toBe(false);
    const frame = compressChunk(data, 3);
    expect(frame.length).toBeLessThan(data.length / 10);
    expect(Buffer.compare(zstdDecompressSync(frame), data)).toBe(0);
  });

  it("compresses a chunk whose middle is text even when its start is random", () => {
    const data = Buffer.concat([randomBytes(200_000), text(800_000)]);
    expect(looksIncompressible(data)).toBe(false);
    expect(compressChunk(data, 3).length).toBeLessThan(data.length / 2);
  });
});

describe("decompressChunk", () => {
  it("refuses output beyond the limit", () => {
    const frame = compressChunk(text(100_000), 3);
    expect(() => decompressChunk(frame, 99_999, "data chunk x")).toThrow(/data chunk x: its plaintext decompresses to more than 99999 bytes/);
    expect(decompressChunk(frame, 100_000, "data chunk x").length).toBe(100_000);
  });

  it("names the object when the frame is not zstd", () => {
    expect(() => decompressChunk(Buffer.from("not zstd at all"), 100, "manifest chunk y")).toThrow(/manifest chunk y: its plaintext is not a valid zstd frame/);
  });
});
