import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { zstdDecompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compressChunk, decompressChunk, frameContentSize, looksIncompressible, rawZstdFrame } from "../src/zstd.js";

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

describe("frameContentSize", () => {
  for (const size of [0, 1, 255, 256, 65791, 65792, 1 << 20]) {
    it(`reads the ${size} bytes a sealed chunk's frame declares (compressed and raw)`, () => {
      expect(frameContentSize(compressChunk(text(size), 3))).toBe(size);
      expect(frameContentSize(rawZstdFrame(randomBytes(size)))).toBe(size);
    });
  }

  it("reads the size after a window descriptor and a dictionary id", () => {
    // Descriptor 0x81: FCS_Flag 2 (4 bytes), no single segment (a window byte follows), Dictionary_ID_Flag 1 (1 byte).
    expect(frameContentSize(Buffer.from("28b52ffd" + "81" + "50" + "07" + "40420f00", "hex"))).toBe(1_000_000);
  });

  it("is undefined for a frame that does not declare it, a truncated header, or no zstd frame", () => {
    expect(frameContentSize(Buffer.from("28b52ffd0050", "hex"))).toBeUndefined(); // FCS_Flag 0, not single segment
    expect(frameContentSize(Buffer.from("28b52ffda00300", "hex"))).toBeUndefined(); // 4-byte size cut short
    expect(frameContentSize(Buffer.from("not zstd at all"))).toBeUndefined();
  });

  it("only sizes the output: a frame that lies about its size still fails or is caught", () => {
    const frame = Buffer.from(compressChunk(text(100_000), 3));
    // Claim 10 bytes: decompression still yields all 100000 bytes within the limit, and refuses beyond it.
    const lying = Buffer.from(rawZstdFrame(Buffer.from("x")));
    lying.writeUInt32LE(10, 5);
    expect(() => decompressChunk(lying, 100, "data chunk z")).toThrow(/data chunk z: its plaintext is not a valid zstd frame/);
    expect(decompressChunk(frame, 100_000, "data chunk z").length).toBe(100_000);
    expect(() => decompressChunk(frame, 50_000, "data chunk z")).toThrow(/decompresses to more than 50000 bytes/);
  });
});
