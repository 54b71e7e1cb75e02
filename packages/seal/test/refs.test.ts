import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { IdList, REFS_BLOCK_MAX, isSortedIds, refsBlocks } from "../src/refs.js";

describe("IdList.sortedUnique", () => {
  it("sorts by bytes and drops duplicates, as a naive sort would", () => {
    const ids = Array.from({ length: 3000 }, () => randomBytes(32));
    // Duplicates, and ids that share their first four bytes.
    for (let i = 0; i < 300; i++) ids.push(ids[i]);
    for (let i = 0; i < 50; i++) ids.push(Buffer.concat([ids[i].subarray(0, 4), randomBytes(28)]));
    const list = new IdList();
    for (const id of ids) list.add(id);
    const naive = [...new Set(ids.map((b) => b.toString("hex")))].sort();
    expect(Buffer.from(list.sortedUnique()).toString("hex")).toBe(naive.join(""));
  });
});

describe("refs blocks", () => {
  it("cover the sorted set in order, ending after ids whose last two bytes are below 64", () => {
    const list = new IdList();
    for (let i = 0; i < 20000; i++) list.add(randomBytes(32));
    const sorted = list.sortedUnique();
    const blocks = refsBlocks(sorted);
    expect(Buffer.compare(Buffer.concat(blocks), sorted)).toBe(0);
    for (const b of blocks.slice(0, -1)) {
      expect(isSortedIds(b)).toBe(true);
      const lastTwo = (b[b.length - 2] << 8) | b[b.length - 1];
      expect(lastTwo < 64 || b.length / 32 === REFS_BLOCK_MAX).toBe(true);
      for (let o = 0; o < b.length - 32; o += 32) expect((b[o + 30] << 8) | b[o + 31]).toBeGreaterThanOrEqual(64);
    }
  });

  it("change only the block that gains an id", () => {
    const list = new IdList();
    const ids = Array.from({ length: 20000 }, () => randomBytes(32));
    for (const id of ids) list.add(id);
    const before = new Set(refsBlocks(list.sortedUnique()).map((b) => createHash("sha256").update(b).digest("hex")));
    const again = new IdList();
    for (const id of ids) again.add(id);
    const extra = randomBytes(32);
    extra[30] = 0xff; // not a cut point
    again.add(extra);
    const after = refsBlocks(again.sortedUnique()).map((b) => createHash("sha256").update(b).digest("hex"));
    expect(after.filter((h) => !before.has(h)).length).toBe(1);
  });

  it("of an empty set are none", () => {
    expect(refsBlocks(new Uint8Array(0))).toEqual([]);
  });
});
