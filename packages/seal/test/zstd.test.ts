import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { zstdDecompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compressChunk, decompressChunk, looksIncompressible, rawFramePlaintext, rawZstdFrame } from "../src/zstd.js";

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

describe("rawFramePlaintext", () => {
  for (const size of [0, 1, 255, 131072, 131073, 3 * 131072 + 17]) {
    it(`unpacks a raw frame of ${size} bytes where it lies`, () => {
      const data = randomBytes(size);
      const frame = rawZstdFrame(data);
      const plain = rawFramePlaintext(frame, size)!;
      expect(Buffer.compare(plain, data)).toBe(0);
      expect(plain.buffer).toBe(frame.buffer); // a view: no copy, no new memory
    });
  }

  it("leaves frames in any other form to zstd, untouched", () => {
    const compressed = compressChunk(text(200_000), 3);
    const before = Buffer.from(compressed);
    expect(rawFramePlaintext(compressed, 1 << 20)).toBeUndefined();
    expect(Buffer.compare(compressed, before)).toBe(0);
    // The zstd tool's own frame of random bytes: raw blocks too, but with a checksum in the header.
    const r = spawnSync("zstd", ["-c", "-q"], { input: randomBytes(50_000) });
    expect(r.status).toBe(0);
    expect(rawFramePlaintext(r.stdout, 1 << 20)).toBeUndefined();
  });

  it("refuses a frame that declares more than the limit", () => {
    const frame = rawZstdFrame(randomBytes(1000));
    expect(rawFramePlaintext(frame, 999)).toBeUndefined();
  });

  it("takes a damaged frame only if zstd reads it the same way, and otherwise leaves it untouched", () => {
    // Random damage to raw frames of 3 blocks: the header, block headers, length. Whatever this
    // accepts, node:zlib's zstd must decode to the same bytes; whatever it declines stays whole.
    const sizes = [0, 5, 131072 + 40, 2 * 131072 + 7];
    let taken = 0;
    let declined = 0;
    for (let round = 0; round < 3000; round++) {
      const data = randomBytes(sizes[round % sizes.length]);
      let frame = Buffer.from(rawZstdFrame(data));
      const damage = round % 5;
      if (damage === 0) frame = frame.subarray(0, frame.length - 1 - (round % 7));
      else if (damage === 1) frame = Buffer.concat([frame, Buffer.from([round & 0xff])]);
      else {
        const headerBytes = [4, 5, 6, 7, 8, 9, 10, 11];
        for (let b = 12; b + 3 <= frame.length; b += 131072 + 3) headerBytes.push(b + (round % 3) + Math.min(131072, frame.length - b - 3));
        const at = headerBytes[round % headerBytes.length];
        if (at < frame.length) frame[at] ^= 1 << (round % 8);
      }
      const original = Buffer.from(frame);
      let expected: Buffer | undefined;
      try {
        expected = zstdDecompressSync(original);
      } catch {
        expected = undefined;
      }
      const got = rawFramePlaintext(frame, 1 << 20);
      const what = `round ${round}: a frame of ${original.length} bytes starting ${original.subarray(0, 16).toString("hex")}`;
      if (got === undefined) {
        declined++;
        expect(Buffer.compare(frame, original), `${what} was changed though declined`).toBe(0);
      } else {
        taken++;
        expect(expected, `${what} was taken though zstd refuses it`).toBeDefined();
        expect(Buffer.compare(got, expected!), `${what} was read differently from zstd`).toBe(0);
      }
    }
    expect(declined).toBeGreaterThan(1000);
    expect(taken).toBeGreaterThan(0);
  });
});
