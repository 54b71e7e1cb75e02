import { randomBytes, randomInt } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { crc32, nativeCrc32 } from "../src/crc32.js";

describe("frame CRC-32", () => {
  it("uses the native CRC-32 on linux x64 (the package installed with the project)", () => {
    if (process.platform === "linux" && process.arch === "x64") expect(nativeCrc32).toBe(true);
  });

  it("equals node:zlib's CRC-32 for every length, offset and starting value", () => {
    const data = randomBytes(300_000);
    const lengths = [0, 1, 33, 1023, 1024, 1025, 4096, 65536, 65537, 131072 + 5, 299_990];
    for (let i = 0; i < 400; i++) lengths.push(randomInt(0, 290_000));
    for (const length of lengths) {
      const offset = randomInt(0, data.length - length + 1);
      const piece = data.subarray(offset, offset + length);
      const initial = randomInt(0, 2 ** 32);
      expect(crc32(piece)).toBe(zlibCrc32(piece));
      expect(crc32(piece, initial)).toBe(zlibCrc32(piece, initial));
    }
  });

  it("chains: the CRC of a whole equals the CRC of its second part started from the first part's", () => {
    const data = randomBytes(200_000);
    for (const cut of [0, 5, 1000, 100_000, 199_999, 200_000]) {
      expect(crc32(data.subarray(cut), crc32(data.subarray(0, cut)))).toBe(zlibCrc32(data));
    }
  });

  it("matches the IEEE check value", () => {
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
    expect(crc32(Buffer.from("123456789".repeat(200)))).toBe(zlibCrc32(Buffer.from("123456789".repeat(200))));
  });
});
