import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeKnown, encodeKnown } from "../src/known.js";
import { IdList } from "../src/refs.js";

function sortedIds(n: number): Uint8Array {
  const list = new IdList();
  for (let i = 0; i < n; i++) list.add(randomBytes(32));
  return list.sortedUnique();
}

describe("known-ids file", () => {
  it("finds exactly the ids it holds", () => {
    const ids = sortedIds(1000);
    const known = decodeKnown(encodeKnown(ids));
    expect(known.size).toBe(1000);
    for (let i = 0; i < 1000; i++) expect(known.has(ids.subarray(i * 32, i * 32 + 32))).toBe(true);
    for (let i = 0; i < 200; i++) expect(known.has(randomBytes(32))).toBe(false);
  });

  it("matches the checked-in vector: header then sorted ids", () => {
    const a = Buffer.alloc(32, 0x11);
    const b = Buffer.alloc(32, 0xee);
    const bytes = Buffer.from(encodeKnown(Buffer.concat([a, b])));
    expect(bytes.subarray(0, 16).toString("hex")).toBe("896b6e6f776e0d0a0100000000000002");
    expect(bytes.length).toBe(16 + 64);
  });

  it("holds no ids when empty", () => {
    expect(decodeKnown(encodeKnown(new Uint8Array(0))).has(Buffer.alloc(32))).toBe(false);
  });

  it("refuses a file with bad magic, a wrong count, or unsorted ids", () => {
    const good = Buffer.from(encodeKnown(sortedIds(3)));
    const magic = Buffer.from(good);
    magic[1] ^= 1;
    expect(() => decodeKnown(magic, "k")).toThrow(/k is not a known-ids file: bad magic/);
    expect(() => decodeKnown(good.subarray(0, good.length - 1), "k")).toThrow(/counts 3 ids but it holds 95 bytes/);
    const unsorted = Buffer.concat([good.subarray(0, 16), good.subarray(48, 80), good.subarray(16, 48), good.subarray(80)]);
    expect(() => decodeKnown(unsorted, "k")).toThrow(/not in strictly ascending order/);
    const version = Buffer.from(good);
    version[8] = 2;
    expect(() => decodeKnown(version, "k")).toThrow(/format version 2/);
  });
});
